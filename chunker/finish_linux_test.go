package chunker_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/ipfs/boxo/blockservice"
	dag "github.com/ipfs/boxo/ipld/merkledag"
	blocks "github.com/ipfs/go-block-format"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/pollen-p2p/pollen/chunker"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

// Getting a DAG again into a target that already holds it, on a
// read-only file system: nothing needs writing (every file is kept), so
// the get succeeds though its journal cannot be a file there.
func TestGetAgainOntoAReadOnlyCopy(t *testing.T) {
	ctx := context.Background()
	ds := dag.NewDAGService(blockservice.New(memStore(), nil))
	root := orderedDir(t, ds, []string{"a", "b"}, []ipld.Node{fileNode("one"), fileNode("two")})
	disk := testdata.SmallDisk(t, "64m")
	if _, err := chunker.Export(ctx, ds, root.Cid(), disk, "x", chunker.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("", disk, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Skip(err)
	}
	if _, err := chunker.Export(ctx, ds, root.Cid(), disk, "x", chunker.ExportOptions{}); err != nil {
		t.Errorf("export again onto the same files, read-only: %v", err)
	}
}

// The disk fills while completed files are listed: a clean Abort still
// removes the temporary files this run made.
func TestCleanAbortAfterTheDiskFills(t *testing.T) {
	ds := dag.NewDAGService(blockservice.New(memStore(), nil))
	empty := fileNode("")
	const n = 3000
	names, nodes := make([]string, n), make([]ipld.Node, n)
	for i := range names {
		names[i], nodes[i] = fmt.Sprintf("f%04d", i), empty
	}
	root := orderedDir(t, ds, names, nodes)
	disk := testdata.SmallDisk(t, "32m")
	p, err := chunker.NewPlacer(root.Cid(), disk, "x", chunker.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Put([]blocks.Block{root}); err != nil {
		t.Fatal(err)
	}
	// Something else fills the disk.
	f, _ := os.Create(filepath.Join(disk, "eater"))
	for buf := make([]byte, 1<<20); ; {
		if _, err := f.Write(buf); err != nil {
			break
		}
	}
	f.Close()
	_, err = p.Put([]blocks.Block{empty})
	_ = err // the disk is full: it may fail or not
	p.Abort(true)
	left, _ := filepath.Glob(filepath.Join(disk, "x", ".*.pollen-part"))
	if len(left) > 0 {
		t.Errorf("a clean abort left %d temporary files", len(left))
	}
}
