package chunker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	bstore "github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"

	"github.com/pollen-p2p/pollen/internal/hostile"
)

// Names that differ only in case are two files where the target tells
// case apart, and refused before anything is written where it does not.
// This machine has no case-insensitive file system to mount (no vfat, no
// ext4 casefold), so the second half presets the probe's answer.
func TestCaseTwins(t *testing.T) {
	ctx := context.Background()
	bs := bstore.NewBlockstore(dssync.MutexWrap(ds.NewMapDatastore()))
	root, err := hostile.NamedFolder(ctx, bs, "Readme.txt", "README.txt")
	if err != nil {
		t.Fatal(err)
	}
	var all []blocks.Block
	keys, _ := bs.AllKeysChan(ctx)
	for k := range keys {
		if string(k.Hash()) == string(root.Hash()) {
			b, _ := bs.Get(ctx, root)
			all = append([]blocks.Block{b}, all...)
		} else {
			b, _ := bs.Get(ctx, k)
			all = append(all, b)
		}
	}
	if probeFolds(t.TempDir()) {
		t.Skip("the temp dir folds case")
	}
	for _, folds := range []int8{2, 1} {
		out := t.TempDir()
		p, err := NewPlacer(root, out, "twins", ExportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		p.folds = folds
		_, err = p.Put(all)
		if folds == 1 {
			if !errors.Is(err, ErrUnsafeName) {
				t.Fatalf("case twins on a folding target: %v, want ErrUnsafeName", err)
			}
			p.Abort(true)
			if left, _ := os.ReadDir(out); len(left) > 0 {
				t.Errorf("left %v", left)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Finish(ctx, nil); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"Readme.txt", "README.txt"} {
			if _, err := os.Stat(filepath.Join(out, "twins", n)); err != nil {
				t.Error(err)
			}
		}
	}
}
