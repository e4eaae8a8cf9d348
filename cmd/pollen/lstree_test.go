package main_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pollen-p2p/pollen/internal/testdata"
)

// TestListAShareBeforeGettingIt: `ls TICKET` lists every file and folder
// of a share with its size, having fetched the folders and each file's
// first block only: not one byte of the big file's contents.
func TestListAShareBeforeGettingIt(t *testing.T) {
	src := filepath.Join(t.TempDir(), "share")
	files := map[string]int64{
		"big.bin":              24 << 20, // 24 leaves under one node
		"notes/a.txt":          1000,
		"notes/empty":          0,
		"notes/deep/er/x.bin":  300 << 10, // one leaf
		"photos/one block.jpg": 200 << 10,
	}
	for name, size := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := testdata.WriteFile(p, uint64(len(name)), size); err != nil {
			t.Fatal(err)
		}
	}
	s := startServer(t, t.TempDir(), "share", src)
	r := run(t, t.TempDir(), append([]string{"ls", s.ticket}, isolated...)...).ok(t)
	t.Logf("%s%s", r.stdout, r.stderr)
	for name, size := range files {
		want := regexp.MustCompile(`(?m)^\S+ ?\S*\s+share/` + regexp.QuoteMeta(name) + `$`)
		line := want.FindString(r.stdout)
		if line == "" {
			t.Errorf("%s is not listed", name)
			continue
		}
		if size > 0 && !strings.HasPrefix(line, strings.Fields(humanSize(size))[0]) {
			t.Errorf("%s listed as %q, want %s", name, line, humanSize(size))
		}
	}
	for _, dir := range []string{"share/", "share/notes/", "share/notes/deep/er/", "share/photos/"} {
		if !strings.Contains(r.stdout, "-  "+dir) && !regexp.MustCompile(`(?m)^-\s+`+regexp.QuoteMeta(dir)+`$`).MatchString(r.stdout) {
			t.Errorf("folder %s is not listed", dir)
		}
	}
	m := regexp.MustCompile(`fetched (\d+) blocks? \(([0-9.]+) ([KMG]?i?B)\)`).FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("ls did not say what it fetched:\n%s", r.stderr)
	}
	// Five folders' nodes and big.bin's top node: nothing else is
	// needed, and leaves are not.
	if n, _ := strconv.Atoi(m[1]); n > 6 {
		t.Errorf("fetched %s blocks to list 5 files in 5 folders", m[1])
	}
	if m[3] != "B" && m[3] != "KiB" {
		t.Errorf("fetched %s %s to list: a file's contents came too", m[2], m[3])
	}
}

// humanSize is how the command line prints a size.
func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', -1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', -1, 64) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

// TestListAShardedFolder: a folder big enough to be a HAMT is listed
// whole, from its shards, without its files' blocks.
func TestListAShardedFolder(t *testing.T) {
	src := testdata.Wide(t, 1, 8000) // d00 holds 8000 one-block files: past 256 KiB of links, a HAMT
	s := startServer(t, t.TempDir(), "share", src)
	r := run(t, t.TempDir(), append([]string{"ls", s.ticket}, isolated...)...).ok(t)
	if n := strings.Count(r.stdout, "/d00/f"); n != 8000 {
		t.Errorf("listed %d files of 8000", n)
	}
	m := regexp.MustCompile(`fetched (\d+) blocks?`).FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("ls did not say what it fetched:\n%s", r.stderr)
	}
	// The root and the HAMT's shards (with 256 slots a shard and 8000
	// names, a few hundred sub-shards): had a file's block come, the
	// count would pass the 8000 files.
	if n, _ := strconv.Atoi(m[1]); n > 1000 {
		t.Errorf("fetched %d blocks to list 8000 files", n)
	}
	t.Logf("%s", r.stderr)
}

// TestListThroughTheDaemon: beside a running daemon, ls TICKET asks it.
func TestListThroughTheDaemon(t *testing.T) {
	src := filepath.Join(t.TempDir(), "share")
	if err := os.MkdirAll(filepath.Join(src, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := testdata.WriteFile(filepath.Join(src, "sub", "file.bin"), 3, 5<<20); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, t.TempDir(), "share", src)
	repo := t.TempDir()
	startDaemon(t, repo)
	r := run(t, repo, "ls", s.ticket).ok(t)
	if !regexp.MustCompile(`(?m)^5\.0 MiB\s+share/sub/file\.bin$`).MatchString(r.stdout) {
		t.Errorf("ls through the daemon:\n%s%s", r.stdout, r.stderr)
	}
}

// TestGetAPathInsideAShare: get TICKET/path fetches the folders along
// the path and that file or folder alone, written under its own name.
func TestGetAPathInsideAShare(t *testing.T) {
	src := filepath.Join(t.TempDir(), "share")
	for name, size := range map[string]int64{"big.bin": 24 << 20, "notes/deep/x.bin": 300 << 10, "notes/deep/y.txt": 10} {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := testdata.WriteFile(p, uint64(size), size); err != nil {
			t.Fatal(err)
		}
	}
	wide := testdata.Wide(t, 1, 8000) // a HAMT folder
	s := startServer(t, t.TempDir(), "share", src)
	w := startServer(t, t.TempDir(), "share", wide)

	out := t.TempDir()
	r := run(t, t.TempDir(), append([]string{"get", s.ticket + "/notes/deep", "-o", out}, isolated...)...).ok(t)
	assertSameTree(t, filepath.Join(src, "notes", "deep"), filepath.Join(out, "deep"))
	if got := receivedMiB(t, r.stderr); got > 1 {
		t.Errorf("received %.1f MiB for a folder of 300 KiB:\n%s", got, r.stderr)
	}

	out = t.TempDir()
	r = run(t, t.TempDir(), append([]string{"get", w.cid + "/d00/f4321", "-o", out, "--from", w.addrs[0]}, isolated...)...).ok(t)
	sameFile(t, filepath.Join(wide, "d00", "f4321"), filepath.Join(out, "f4321"))

	run(t, t.TempDir(), append([]string{"get", s.ticket + "/notes/nothing", "-o", t.TempDir()}, isolated...)...).fails(t, `no "nothing" in folder`)
	run(t, t.TempDir(), append([]string{"get", s.ticket + "/big.bin/x", "-o", t.TempDir()}, isolated...)...).fails(t, "below a file")
}

// receivedMiB reads the MiB a get says it received.
func receivedMiB(t *testing.T, stderr string) float64 {
	t.Helper()
	m := regexp.MustCompile(`([0-9.]+) ([KM]i)?B received`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("the get did not say what it received:\n%s", stderr)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	switch m[2] {
	case "Ki":
		return v / 1024
	case "":
		return v / (1 << 20)
	}
	return v
}

// TestGetOnlySomeFiles: get --only takes the files that match, makes the
// folders they are in and no other, fetches nothing of the rest past a
// file's top node, and its bar ends at the part's size.
func TestGetOnlySomeFiles(t *testing.T) {
	src := filepath.Join(t.TempDir(), "share")
	for name, size := range map[string]int64{
		"big.bin": 24 << 20, "notes/a.txt": 1000, "notes/deep/y.txt": 20, "photos/p.jpg": 300 << 10, "readme.TXT": 5,
	} {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := testdata.WriteFile(p, uint64(size), size); err != nil {
			t.Fatal(err)
		}
	}
	s := startServer(t, t.TempDir(), "share", src)
	out := t.TempDir()
	r := run(t, t.TempDir(), append([]string{"get", s.ticket, "-o", out, "--only", "*.txt"}, isolated...)...).ok(t)
	var got []string
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if rel, _ := filepath.Rel(out, p); rel != "." {
			got = append(got, rel)
		}
		return nil
	})
	want := []string{"share", "share/notes", "share/notes/a.txt", "share/notes/deep", "share/notes/deep/y.txt"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("wrote %v, want %v", got, want)
	}
	sameFile(t, filepath.Join(src, "notes", "a.txt"), filepath.Join(out, "share", "notes", "a.txt"))
	if mib := receivedMiB(t, r.stderr); mib > 0.1 {
		t.Errorf("received %.2f MiB for 1 KiB of text:\n%s", mib, r.stderr)
	}
	if !regexp.MustCompile(`get: [0-9.]+ KiB of [0-9.]+ KiB \(100%`).MatchString(r.stderr) {
		t.Errorf("the bar did not end at the part's size:\n%s", r.stderr)
	}
	run(t, t.TempDir(), append([]string{"get", s.ticket, "-o", t.TempDir(), "--only", "[oops"}, isolated...)...).fails(t, "--only")
}
