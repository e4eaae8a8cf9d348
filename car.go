package pollen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	dag "github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/verifcid"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	car "github.com/ipld/go-car/v2"
	"github.com/ipld/go-car/v2/storage"
)

// CAR files (content-addressed archives) carry a DAG's blocks in one
// file: Kubo's `ipfs dag export` and `dag import` read and write the
// same. A CAR is a stranger's: every block is checked against its CID,
// no block may pass the largest a peer may send, and only the blocks of
// roots the file holds whole are recorded.

// A CAR's blocks are bounded as Bitswap bounds a message, its CIDs as
// the exchange's wire does.
const (
	maxCARBlock = 4 << 20
	maxCARCID   = 128
)

// ExportCAR writes root's DAG to w as a CARv1, each block once, parents
// before children (as Kubo's dag export); root must be here whole.
func (n *Node) ExportCAR(ctx context.Context, root cid.Cid, w io.Writer) error {
	if err := n.ensureLocal(ctx, root); err != nil {
		return fmt.Errorf("export %s: %w", root, err)
	}
	out, err := storage.NewWritable(struct{ io.Writer }{w}, []cid.Cid{root}, car.WriteAsCarV1(true), car.StoreIdentityCIDs(true))
	if err != nil {
		return fmt.Errorf("export %s: %w", root, err)
	}
	stack := []cid.Cid{root}
	seen := map[string]bool{}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[string(c.Hash())] {
			continue
		}
		seen[string(c.Hash())] = true
		b, err := n.store.Get(ctx, c)
		if err != nil {
			return fmt.Errorf("export %s: %w", root, err)
		}
		if err := out.Put(ctx, c.KeyString(), b.RawData()); err != nil {
			return fmt.Errorf("export %s: %w", root, err)
		}
		if c.Type() != cid.DagProtobuf {
			continue
		}
		nd, err := dag.DecodeProtobufBlock(b)
		if err != nil {
			return fmt.Errorf("export %s: %w", root, err)
		}
		links := nd.Links()
		for i := len(links) - 1; i >= 0; i-- { // the first link on top
			stack = append(stack, links[i].Cid)
		}
	}
	return nil
}

// ErrCorruptCAR is wrapped when a CAR's block does not match its CID.
var ErrCorruptCAR = errors.New("a block does not match its CID")

// ImportResult is what ImportCAR kept.
type ImportResult struct {
	Roots  []cid.Cid // the roots the file holds whole: recorded (pinned)
	Blocks int       // blocks read and stored
	// Partial are roots whose DAG the file (and the store) lacks part
	// of: their blocks are stored, nothing is recorded.
	Partial []cid.Cid
}

// ImportCAR stores the blocks of a CARv1 or CARv2 read from r, each
// checked against its CID, and pins each root the file holds whole.
func (n *Node) ImportCAR(ctx context.Context, r io.Reader) (ImportResult, error) {
	var res ImportResult
	br, err := car.NewBlockReader(r, car.MaxAllowedSectionSize(maxCARBlock+maxCARCID), car.MaxAllowedHeaderSize(1<<20))
	if err != nil {
		return res, fmt.Errorf("import: not a CAR file: %w", err)
	}
	n.importing.RLock() // GC keeps what is stored before it is recorded
	defer n.importing.RUnlock()
	var batch []blocks.Block
	var size int
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := n.store.PutMany(ctx, batch)
		batch, size = batch[:0], 0
		return err
	}
	for {
		b, err := br.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if strings.Contains(err.Error(), "mismatch in content integrity") { // go-car has no sentinel
				err = fmt.Errorf("%w: %v", ErrCorruptCAR, err)
			}
			return res, fmt.Errorf("import: block %d: %w", res.Blocks+1, err)
		}
		if err := verifcid.ValidateCid(verifcid.DefaultAllowlist, b.Cid()); err != nil {
			return res, fmt.Errorf("import: block %s: %w", b.Cid(), err)
		}
		batch, size = append(batch, b), size+len(b.RawData())
		res.Blocks++
		if size >= 8<<20 || len(batch) >= 256 {
			if err := flush(); err != nil {
				return res, fmt.Errorf("import: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return res, fmt.Errorf("import: %w", err)
	}
	if err := n.store.Sync(); err != nil {
		return res, fmt.Errorf("import: %w", err)
	}
	for _, root := range br.Roots {
		if err := n.ensureLocal(ctx, root); errors.Is(err, ErrNotLocal) {
			res.Partial = append(res.Partial, root)
			continue
		} else if err != nil {
			return res, fmt.Errorf("import: %w", err)
		}
		res.Roots = append(res.Roots, root)
		if recs, _ := n.store.RecordsOf(root); len(recs) > 0 {
			continue
		}
		rec := Record{Root: root, Kind: KindPin, Name: root.String(), Size: n.dagSize(ctx, root), Added: time.Now().UTC()}
		if err := n.store.PutRecord(rec); err != nil {
			return res, fmt.Errorf("import: %w", err)
		}
		if err := errors.Join(n.refreshAccess(ctx), n.seedRecorded(ctx, root)); err != nil {
			return res, fmt.Errorf("import: %w", err)
		}
		n.provide(root)
	}
	return res, nil
}

// dagSize is the bytes root's DAG declares: a raw block's length, or a
// node's cumulative size (its links' sizes and its own bytes).
func (n *Node) dagSize(ctx context.Context, root cid.Cid) uint64 {
	nd, err := n.dag.Get(ctx, root)
	if err != nil {
		return 0
	}
	size, err := nd.Size()
	if err != nil {
		return 0
	}
	return size
}
