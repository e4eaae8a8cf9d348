package chunker_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/ipfs/boxo/blockservice"
	dag "github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/pollen-p2p/pollen/chunker"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

// depthFirst serves an export and counts the files of the folders it
// served that were not read yet.
type depthFirst struct {
	ipld.NodeGetter
	unread, most int
}

func (d *depthFirst) Get(ctx context.Context, c cid.Cid) (ipld.Node, error) {
	nd, err := d.NodeGetter.Get(ctx, c)
	if err != nil {
		return nil, err
	}
	if c.Type() == cid.Raw {
		d.unread--
	} else {
		d.unread += len(nd.Links())
	}
	d.most = max(d.most, d.unread)
	return nd, nil
}

// TestExportGoesDepthFirst exports 30 folders of 100 files from the
// store: each folder is written before the next is read, so what the
// export waits for is one folder's files and the list of folders, not
// the 3,000 files.
func TestExportGoesDepthFirst(t *testing.T) {
	const folders, files = 30, 100
	src := testdata.Wide(t, folders, files)
	bs := memStore()
	res, err := chunker.Import(context.Background(), bs, src, chunker.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ng := &depthFirst{NodeGetter: dag.NewDAGService(blockservice.New(bs, nil))}
	out := t.TempDir()
	if _, err := chunker.Export(context.Background(), ng, res.Root, out, "copy", chunker.ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	assertSameTree(t, src, filepath.Join(out, "copy"))
	if bound := folders + files; ng.most > bound {
		t.Errorf("the export waited for %d blocks at once; depth first it waits for at most %d", ng.most, bound)
	}
	if left, _ := filepath.Glob(filepath.Join(out, ".pollen-journal-*")); len(left) > 0 {
		t.Errorf("journal left behind: %v", left)
	}
}
