package chunker_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pollen-p2p/pollen/chunker"
)

// An import with a cache reads only the files that changed, and gives
// the root a fresh import gives.
func TestImportCacheSkipsUnchanged(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	old := time.Now().Add(-time.Hour)
	write := func(name string, data []byte) {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, old, old) // older than the racy window
	}
	write("a.txt", []byte("a"))
	write("sub/b.bin", bytes.Repeat([]byte{1}, 3<<20+5))
	write("sub/c.txt", nil)
	write("d.txt", []byte("d"))
	st := memStore()
	var cache chunker.FileCache
	var reused int
	first, err := chunker.Import(ctx, st, dir, chunker.ImportOptions{Cache: &cache, Reused: &reused})
	if err != nil {
		t.Fatal(err)
	}
	if reused != 0 || cache.Len() != 4 {
		t.Fatalf("first import: reused %d, cached %d", reused, cache.Len())
	}
	again, err := chunker.Import(ctx, st, dir, chunker.ImportOptions{Cache: &cache, Reused: &reused})
	if err != nil || again.Root != first.Root || reused != 4 || again.Size != first.Size {
		t.Fatalf("unchanged: %v %s want %s, reused %d, size %d want %d", err, again.Root, first.Root, reused, again.Size, first.Size)
	}
	old = old.Add(time.Minute)
	write("sub/b.bin", bytes.Repeat([]byte{2}, 3<<20+5))
	os.Remove(filepath.Join(dir, "d.txt"))
	changed, err := chunker.Import(ctx, st, dir, chunker.ImportOptions{Cache: &cache, Reused: &reused})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := chunker.Import(ctx, memStore(), dir, chunker.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if changed.Root != fresh.Root || reused != 2 || cache.Len() != 3 {
		t.Fatalf("changed: %s want %s, reused %d, cached %d", changed.Root, fresh.Root, reused, cache.Len())
	}
	// A file modified just now is read again next time: its mtime may
	// not move with a change made within its granularity.
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("A"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := chunker.Import(ctx, st, dir, chunker.ImportOptions{Cache: &cache, Reused: &reused}); err != nil {
		t.Fatal(err)
	}
	if cache.Len() != 2 {
		t.Fatalf("a racy file was cached: %d cached", cache.Len())
	}
}
