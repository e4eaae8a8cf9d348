package chunker_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipfs/boxo/blockservice"
	dag "github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	blocks "github.com/ipfs/go-block-format"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/pollen-p2p/pollen/chunker"
)

// orderedDir is a folder node with its links in the order given.
func orderedDir(t *testing.T, ds ipld.DAGService, names []string, nodes []ipld.Node) *dag.ProtoNode {
	t.Helper()
	n := ft.EmptyDirNode()
	n.SetCidBuilder(chunker.Builder)
	for i, name := range names {
		if err := ds.Add(context.Background(), nodes[i]); err != nil {
			t.Fatal(err)
		}
		if err := n.AddRawLink(name, &ipld.Link{Cid: nodes[i].Cid(), Size: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ds.Add(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A symlink whose place is taken between planning and Finish: the files
// Finish linked to their names before it are told to Renamed, so the
// store points at names that stay.
func TestFinishTellsRenamedBeforeALaterFailure(t *testing.T) {
	ctx := context.Background()
	bs := memStore()
	ds := dag.NewDAGService(blockservice.New(bs, nil))
	a := fileNode("content of a")
	sl := symlinkNode("elsewhere")
	root := orderedDir(t, ds, []string{"a", "b"}, []ipld.Node{a, sl})
	out := t.TempDir()
	var told int
	p, err := chunker.NewPlacer(root.Cid(), out, "x", chunker.ExportOptions{Renamed: func(m []chunker.Moved) error {
		told += len(m)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []blocks.Block{root, a, sl} {
		if _, err := p.Put([]blocks.Block{b}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(out, "x", "b"), []byte("someone's"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = p.Finish(ctx, bs)
	if !errors.Is(err, chunker.ErrExists) {
		t.Fatalf("finish: %v, want ErrExists", err)
	}
	p.Abort(true)
	_, aerr := os.Stat(filepath.Join(out, "x", "a"))
	t.Logf("x/a exists after the refused get: %v; Renamed told of %d files", aerr == nil, told)
	if aerr == nil && told == 0 {
		t.Errorf("x/a was given its name, but Renamed was never told (the store still points at its removed temporary file)")
	}
}

// An empty HAMT-sharded folder (and a folder holding only one) is made.
func TestEmptyShardedFolderIsMade(t *testing.T) {
	ctx := context.Background()
	ds := dag.NewDAGService(blockservice.New(memStore(), nil))
	data, err := ft.HAMTShardData(nil, 256, 0x22) // murmur3-x64-64
	if err != nil {
		t.Fatal(err)
	}
	empty := dag.NodeWithData(data)
	empty.SetCidBuilder(chunker.Builder)
	root := orderedDir(t, ds, []string{"e", "f"}, []ipld.Node{empty, fileNode("f")})
	for _, c := range []struct {
		name string
		root ipld.Node
	}{{"root", empty}, {"entry", root}} {
		out := t.TempDir()
		res, err := chunker.Export(ctx, ds, c.root.Cid(), out, "x", chunker.ExportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := filepath.Join(out, "x")
		if c.name == "entry" {
			want = filepath.Join(want, "e")
		}
		if fi, err := os.Lstat(want); err != nil || !fi.IsDir() {
			t.Errorf("%s: the empty sharded folder was not made (Dirs %d): %v", c.name, res.Dirs, err)
		}
	}
}

// A symlink to a path longer than Linux takes (a stranger's DAG) is
// refused when planned, and nothing is left.
func TestLongSymlinkTargetIsRefused(t *testing.T) {
	ctx := context.Background()
	ds := dag.NewDAGService(blockservice.New(memStore(), nil))
	sl := symlinkNode(strings.Repeat("t", 70000))
	root := orderedDir(t, ds, []string{"l", "z"}, []ipld.Node{sl, fileNode("after the link")})
	out := t.TempDir()
	_, err := chunker.Export(ctx, ds, root.Cid(), out, "x", chunker.ExportOptions{})
	if !errors.Is(err, chunker.ErrTooLarge) {
		t.Errorf("export: %v, want ErrTooLarge", err)
	}
	left, _ := filepath.Glob(filepath.Join(out, "x", ".*.pollen-part"))
	if len(left) > 0 {
		t.Errorf("a refused export left %v", left)
	}
}
