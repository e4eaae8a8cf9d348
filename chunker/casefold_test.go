package chunker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ipfs/boxo/blockservice"
	bstore "github.com/ipfs/boxo/blockstore"
	dag "github.com/ipfs/boxo/ipld/merkledag"
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

// Folders whose names differ only in case, each holding a file of the
// same name, are two folders where case counts, not one name twice.
func TestCaseTwinFolders(t *testing.T) {
	src := t.TempDir()
	for _, d := range []string{"Docs", "docs"} {
		os.MkdirAll(filepath.Join(src, "tree", d), 0o755)
		os.WriteFile(filepath.Join(src, "tree", d, "readme"), []byte(d), 0o644)
	}
	if probeFolds(src) {
		t.Skip("the temp dir folds case")
	}
	ctx := context.Background()
	bs := bstore.NewBlockstore(dssync.MutexWrap(ds.NewMapDatastore()))
	res, err := Import(ctx, bs, filepath.Join(src, "tree"), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := Export(ctx, dag.NewDAGService(blockservice.New(bs, nil)), res.Root, out, "tree", ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"Docs", "docs"} {
		if b, _ := os.ReadFile(filepath.Join(out, "tree", d, "readme")); string(b) != d {
			t.Errorf("%s/readme holds %q", d, b)
		}
	}
}

// A file node waited for at many places counts its links as blocks, not
// as files and folders: zero runs across files share their nodes.
func TestRepeatedFileNodesCountAsBlocks(t *testing.T) {
	ctx := context.Background()
	bs := bstore.NewBlockstore(dssync.MutexWrap(ds.NewMapDatastore()))
	root, err := hostile.SizeBomb(ctx, bs, 10, 1000) // one file: 10 nodes of 10 leaves
	if err != nil {
		t.Fatal(err)
	}
	_, err = Export(ctx, dag.NewDAGService(blockservice.New(bs, nil)), root, t.TempDir(), "f", ExportOptions{MaxEntries: 8})
	if err != nil {
		t.Fatalf("a file of 110 blocks within a budget of 8 entries (128 blocks): %v", err)
	}
}
