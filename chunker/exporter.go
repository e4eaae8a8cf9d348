package chunker

import (
	"context"
	"errors"
	"fmt"
	"io"

	dag "github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	pb "github.com/ipfs/boxo/ipld/unixfs/pb"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// partSuffix marks a file still being written: ".NAME.pollen-part".
const partSuffix = ".pollen-part"

// Export writes the DAG under root, read from ng, to dir/name (see
// [Placer]), depth first: its memory is bounded by the DAG's depth and
// the width of its folders. A DAG refused part way (a hostile name, an
// existing file, a budget) is taken back: the temporary files and the
// folders it made are removed, and no file got its name.
func Export(ctx context.Context, ng NodeGetter, root cid.Cid, dir, name string, o ExportOptions) (ExportResult, error) {
	p, err := NewPlacer(root, dir, name, o)
	if err != nil {
		return ExportResult{}, err
	}
	res, err := p.Finish(ctx, nodeSource{ng})
	if err != nil {
		p.Abort(!errors.Is(err, context.Canceled))
		return res, fmt.Errorf("export %s: %w", root, err)
	}
	return res, nil
}

// nodeSource reads blocks through a NodeGetter.
type nodeSource struct{ ng NodeGetter }

func (s nodeSource) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	return s.ng.Get(ctx, c)
}

// Cat writes the content of the file at root to w.
func Cat(ctx context.Context, ng NodeGetter, root cid.Cid, w io.Writer) (int64, error) {
	n, err := ng.Get(ctx, root)
	if err != nil {
		return 0, fmt.Errorf("cat %s: %w", root, err)
	}
	if pn, ok := n.(*dag.ProtoNode); ok {
		fsn, err := ft.FSNodeFromBytes(pn.Data())
		if err != nil {
			return 0, fmt.Errorf("cat %s: not UnixFS: %w", root, err)
		}
		if t := fsn.Type(); t != ft.TFile && t != ft.TRaw {
			return 0, fmt.Errorf("cat %s: is a %s, not a file", root, typeName(t))
		}
	}
	r, err := uio.NewDagReader(ctx, n, ng)
	if err != nil {
		return 0, fmt.Errorf("cat %s: %w", root, err)
	}
	defer r.Close()
	written, err := io.Copy(w, r)
	if err != nil {
		return written, fmt.Errorf("cat %s: %w", root, err)
	}
	return written, nil
}

func typeName(t pb.Data_DataType) string {
	switch t {
	case ft.TDirectory, ft.THAMTShard:
		return "folder"
	case ft.TSymlink:
		return "symlink"
	default:
		return t.String()
	}
}
