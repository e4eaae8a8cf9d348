package main_test

import (
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pollen-p2p/pollen/internal/testdata"
)

// room is the free space on disk, counting the spare file the store keeps
// there as free: gc makes it again when it frees enough.
func room(t *testing.T, disk, repo string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(disk, &st); err != nil {
		t.Fatal(err)
	}
	n := int64(st.Bavail) * st.Bsize
	if fi, err := os.Stat(filepath.Join(repo, "blocks", "spare")); err == nil {
		n += fi.Size()
	}
	return n
}

func randomFile(t *testing.T, path string, n int) {
	t.Helper()
	data := make([]byte, n)
	rand.Read(data)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDiskFull fills the disk under a repo, with pollen's own add and
// then from outside: each command fails with one line or works, none
// crashes, and rm and gc give the space back.
func TestDiskFull(t *testing.T) {
	disk := testdata.SmallDisk(t, "96m")
	repo := filepath.Join(disk, "repo")
	src := t.TempDir()
	small, big := filepath.Join(src, "small.bin"), filepath.Join(src, "big.bin")
	randomFile(t, small, 8<<20)
	randomFile(t, big, 128<<20)

	first := strings.TrimSpace(run(t, repo, "add", "-q", small).ok(t).stdout)
	r := run(t, repo, "add", "-q", big)
	r.fails(t, "disk full: ")
	if !strings.Contains(r.stderr, " free on "+repo) {
		t.Errorf("the error does not say where: %s", r.stderr)
	}
	run(t, repo, "status").ok(t)
	run(t, repo, "verify").ok(t)
	before := room(t, disk, repo)
	run(t, repo, "gc").ok(t) // the failed add's blocks
	if after := room(t, disk, repo); after < before+32<<20 {
		t.Errorf("gc after the failed add freed %d MiB", (after-before)>>20)
	}

	// Something else fills the disk.
	eater := filepath.Join(disk, "eater")
	f, err := os.Create(eater)
	if err != nil {
		t.Fatal(err)
	}
	for buf := make([]byte, 1<<20); ; {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()
	run(t, repo, "status").ok(t)
	run(t, repo, "verify").ok(t)
	run(t, repo, "add", "-q", big).fails(t, "disk full: ")
	run(t, repo, "rm", first).ok(t)
	before = room(t, disk, repo)
	run(t, repo, "gc").ok(t)
	if after := room(t, disk, repo); after < before+6<<20 {
		t.Errorf("gc after rm freed %d MiB", (after-before)>>20)
	}
	if ls := run(t, repo, "ls").ok(t); strings.Contains(ls.stdout, first) {
		t.Errorf("rm left the share:\n%s", ls.stdout)
	}

	os.Remove(eater)
	if c := strings.TrimSpace(run(t, repo, "add", "-q", small).ok(t).stdout); c != first {
		t.Errorf("add after freeing space gave %s, want %s", c, first)
	}
	run(t, repo, "verify").ok(t)
}
