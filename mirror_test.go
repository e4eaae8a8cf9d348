package pollen_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A version that turns a file into a folder, a folder into a file, and
// a symlink to a folder outside into a folder of that name: the mirror
// follows each, and nothing is written through the symlink it had made.
func TestLiveMirrorKinds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	outside := t.TempDir()
	src := filepath.Join(t.TempDir(), "shared")
	writeFile(t, filepath.Join(src, "x"), []byte("a file"))
	writeFile(t, filepath.Join(src, "d/f"), []byte("in a folder"))
	if err := os.Symlink(outside, filepath.Join(src, "s")); err != nil {
		t.Fatal(err)
	}
	_, _, tk := shareLive(t, ctx, src)
	f, mirror := follow(t, ctx, tk)
	waitMirrors(t, src, []string{mirror}, 30*time.Second)
	if to, err := os.Readlink(filepath.Join(mirror, "s")); err != nil || to != outside {
		t.Fatalf("the mirror's symlink: %q %v", to, err)
	}

	for _, p := range []string{"x", "d", "s"} {
		if err := os.RemoveAll(filepath.Join(src, p)); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(src, "x/inner"), []byte("now a folder"))
	writeFile(t, filepath.Join(src, "d"), []byte("now a file"))
	writeFile(t, filepath.Join(src, "s/sub/f2"), []byte("not through the link"))
	took := waitMirrors(t, src, []string{mirror}, 30*time.Second)
	t.Logf("file to folder, folder to file, symlink to folder: mirrored in %s", took)
	if left, _ := os.ReadDir(outside); len(left) != 0 {
		t.Fatalf("written through the mirror's symlink into %s: %v", outside, left)
	}
	if l := waitVersion(t, f, 2, 10*time.Second); len(l.Conflicts) != 0 || l.Err != "" {
		t.Fatalf("conflicts %q, error %q", l.Conflicts, l.Err)
	}
}

// A follower that stopped between writing a version's files and noting
// them (a crash) knows them again as its own: the next version does not
// call them the user's.
func TestLiveMirrorAfterACrash(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	src := filepath.Join(t.TempDir(), "shared")
	writeFile(t, filepath.Join(src, "a.txt"), []byte("one"))
	writeFile(t, filepath.Join(src, "b.txt"), []byte("bee"))
	sharer, li, tk := shareLive(t, ctx, src)
	f, mirror := follow(t, ctx, tk)
	waitMirrors(t, src, []string{mirror}, 30*time.Second)
	waitVersion(t, f, 1, 10*time.Second)
	manifest := filepath.Join(f.Dir(), "live", li.Name.String()+".mirror.json")
	before, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(src, "a.txt"), []byte("two"))
	waitVersion(t, sharer, 2, 20*time.Second)
	waitVersion(t, f, 2, 20*time.Second)
	// The crash: version 2's a.txt is in place, the manifest is version 1's.
	if err := os.WriteFile(manifest, before, 0o600); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(src, "b.txt"), []byte("bee three"))
	waitMirrors(t, src, []string{mirror}, 30*time.Second)
	if l := waitVersion(t, f, 3, 10*time.Second); len(l.Conflicts) != 0 {
		t.Fatalf("after the crash, conflicts %q: the mirror's own file taken for the user's", l.Conflicts)
	}
}
