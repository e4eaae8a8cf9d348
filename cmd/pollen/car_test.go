package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pollen-p2p/pollen/internal/kubo"
)

// TestCARWithKubo: a folder exported by Kubo's `dag export` imports into
// pollen whole, and pollen's export imports into Kubo, which reads the
// same files back: the same CAR files both ways, offline.
func TestCARWithKubo(t *testing.T) {
	k, err := kubo.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src := interopFolder(t)

	// Kubo → pollen.
	root, err := k.Run("add", "-r", "-Q", src)
	if err != nil {
		t.Fatal(err)
	}
	root = strings.TrimSpace(root)
	fromKubo := filepath.Join(t.TempDir(), "kubo.car")
	data, err := k.Run("dag", "export", root)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(fromKubo, []byte(data), 0o644)
	repo := t.TempDir()
	imp := run(t, repo, "import", fromKubo).ok(t)
	if strings.TrimSpace(imp.stdout) != root {
		t.Fatalf("import printed %q, want %s", imp.stdout, root)
	}
	out := t.TempDir()
	run(t, repo, "get", root, "-o", out).ok(t)
	assertSameTree(t, src, filepath.Join(out, root), ".hidden-file")
	if ls := run(t, repo, "ls").ok(t); !strings.Contains(ls.stdout, root) || !strings.Contains(ls.stdout, "pinned") {
		t.Errorf("ls after import:\n%s", ls.stdout)
	}

	// pollen → Kubo, into a fresh Kubo repo.
	mine := t.TempDir()
	shared := strings.TrimSpace(run(t, mine, "add", "-q", src).ok(t).stdout)
	if shared != root {
		t.Fatalf("pollen's CID %s, Kubo's %s", shared, root)
	}
	toKubo := filepath.Join(t.TempDir(), "pollen.car")
	run(t, mine, "export", shared, "--car", toKubo).ok(t)
	k2, err := kubo.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k2.Run("dag", "import", toKubo); err != nil {
		t.Fatal(err)
	}
	back := filepath.Join(t.TempDir(), "back")
	if _, err := k2.Run("get", "--offline", shared, "-o", back); err != nil {
		t.Fatal(err)
	}
	assertSameTree(t, src, back, ".hidden-file")
	run(t, mine, "export", shared, "--car", toKubo).fails(t, "exists")
}

// TestImportRefusesABadCAR: a CAR whose block does not match its CID is
// refused with one line, and nothing is kept; one that lacks blocks of
// its root stores what it has and keeps no root.
func TestImportRefusesABadCAR(t *testing.T) {
	repo := t.TempDir()
	src := mixed(t) + "/several-MiB.bin"
	root := strings.TrimSpace(run(t, repo, "add", "-q", src).ok(t).stdout)
	car := filepath.Join(t.TempDir(), "f.car")
	run(t, repo, "export", root, "--car", car).ok(t)
	data, _ := os.ReadFile(car)

	bad := append([]byte(nil), data...)
	bad[len(bad)-10] ^= 0xff // in the last block's bytes
	badFile := filepath.Join(t.TempDir(), "bad.car")
	os.WriteFile(badFile, bad, 0o644)
	other := t.TempDir()
	run(t, other, "import", badFile).fails(t, "mismatch")
	if ls := run(t, other, "ls").ok(t); strings.Contains(ls.stdout, root) {
		t.Errorf("a damaged CAR's root is kept:\n%s", ls.stdout)
	}

	cut := filepath.Join(t.TempDir(), "cut.car")
	os.WriteFile(cut, data[:len(data)/2], 0o644)
	run(t, t.TempDir(), "import", cut).fails(t, "import")

	run(t, t.TempDir(), "import", src).fails(t, "not a CAR file")
}
