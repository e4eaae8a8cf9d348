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
	f := liveNode(t, t.TempDir())
	defer f.Close()
	mirror := filepath.Join(t.TempDir(), "m")
	if _, err := f.Follow(ctx, tk, mirror); err != nil {
		t.Fatal(err)
	}
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
