package pollen

import (
	"context"
	"errors"
	"fmt"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/pollen-p2p/pollen/blockstore"
	"github.com/pollen-p2p/pollen/chunker"
	"github.com/pollen-p2p/pollen/exchange"
)

// fetchAndExport fetches the DAG and writes it out as it arrives (see
// download).
func (n *Node) fetchAndExport(ctx context.Context, nw *netState, root cid.Cid, dir, name string, o GetOptions) (GetResult, error) {
	res, err := n.fetchAndExportOnce(ctx, nw, root, dir, name, o)
	if ipld.IsNotFound(err) && ctx.Err() == nil {
		// A block the store pointed at in an exported file was gone or
		// changed when read: its entry is dropped now, so this fetches it.
		res, err = n.fetchAndExportOnce(ctx, nw, root, dir, name, o)
	}
	return res, err
}

func (n *Node) fetchAndExportOnce(ctx context.Context, nw *netState, root cid.Cid, dir, name string, o GetOptions) (GetResult, error) {
	d := &download{n: n}
	p, err := chunker.NewPlacer(root, dir, name, chunker.ExportOptions{Force: o.Force, Renamed: d.renamed, MaxEntries: o.MaxEntries, Only: o.only, FileDone: o.FileDone})
	if err != nil {
		return GetResult{}, err
	}
	d.p = p
	err = n.fetch(ctx, nw, root, o, d)
	var res GetResult
	if err == nil {
		res, err = p.Finish(ctx, n.store)
		if serr := n.store.Sync(); err == nil && serr != nil {
			err = fmt.Errorf("get %s: %w", root, serr)
		}
	}
	if err != nil {
		// A refused get takes back what it wrote; an interrupted one
		// leaves its temporary files for the next run to adopt, and what
		// arrived is kept (synced: the get's one commit point, as below).
		p.Abort(errors.Is(err, chunker.ErrUnsafeName) || errors.Is(err, chunker.ErrExists) || errors.Is(err, chunker.ErrTooLarge))
		n.store.Sync()
		return res, err
	}
	return res, nil
}

// download is one get: the blocks its fetch brings go straight to their
// places in the files it writes (chunker.Placer), each fetched byte is
// written once, and the store points into those files instead of keeping
// a copy. Nothing of it outlives the get.
type download struct {
	n *Node
	p *chunker.Placer
}

var _ exchange.Sink = (*download)(nil)

// Put places leaves that arrived, then makes each block present in the
// store: every leaf written to a file as a reference to it (a small
// file's too: kept in Badger as well, a folder of many small files would
// be written twice and cost Badger's compactions), the rest stored. Nodes
// are placed when the walk reaches them (Local), not as they come: the
// placer plans no further ahead than the walk.
func (d *download) Put(ctx context.Context, bl []blocks.Block) error {
	var leaves []blocks.Block
	for _, b := range bl {
		if b.Cid().Type() == cid.Raw {
			leaves = append(leaves, b)
		}
	}
	placed, err := d.p.Put(leaves)
	if rerr := d.refer(ctx, placed); err == nil {
		err = rerr
	}
	if err != nil {
		return err
	}
	referred := make(map[string]bool, len(placed))
	for _, pl := range placed {
		referred[string(pl.Cid.Hash())] = true
	}
	var keep []blocks.Block
	for _, b := range bl {
		if !referred[string(b.Cid().Hash())] {
			keep = append(keep, b)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	return d.n.store.PutMany(ctx, keep)
}

// Wants says whether the placer waits for c.
func (d *download) Wants(c cid.Cid) bool { return d.p.Waits(c) }

// Local places a block found in the store; the leaves a node's planning
// adopts from files an earlier get left are recorded at once, so the
// fetch does not ask for them.
func (d *download) Local(ctx context.Context, b blocks.Block) error {
	placed, err := d.p.Local(b)
	if rerr := d.refer(ctx, placed); err == nil {
		err = rerr
	}
	return err
}

// refer records where placed leaves are, a batch per file.
func (d *download) refer(ctx context.Context, placed []chunker.Placed) error {
	byPath := map[string][]blockstore.FileRef{}
	var paths []string
	for _, pl := range placed {
		if _, ok := byPath[pl.Path]; !ok {
			paths = append(paths, pl.Path)
		}
		byPath[pl.Path] = append(byPath[pl.Path], blockstore.FileRef{Cid: pl.Cid, Off: pl.Off, Size: pl.Size})
	}
	for _, path := range paths {
		if err := d.n.store.AddFileRefs(ctx, path, byPath[path]); err != nil {
			return err
		}
	}
	return nil
}

// renamed points the store at complete files under their own names:
// every leaf of each, where it is in it.
func (d *download) renamed(moved []chunker.Moved) error {
	var placed []chunker.Placed
	for _, m := range moved {
		placed = append(placed, m.Leaves...)
	}
	return d.refer(context.Background(), placed)
}
