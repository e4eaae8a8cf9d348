package pollen

import (
	"context"
	"fmt"
	"sync"

	"github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// partSink is the sink of a fetch that takes part of a DAG (a listing,
// the folders along a path): it wants the root, then what below says
// each node it was given links to, and stores what comes.
type partSink struct {
	n     *Node
	below func(*merkledag.ProtoNode, *ft.FSNode) ([]cid.Cid, error)
	// whole: below takes everything (a follow's version), so the fetch
	// is a holder's and asks its peers for the root's other holders.
	whole bool

	mu   sync.Mutex
	want map[string]bool
	err  error // below's, which ends the fetch's wants
	// fetched counts the blocks that arrived, and their bytes.
	fetched      int
	fetchedBytes int64
}

func newPartSink(n *Node, root cid.Cid, below func(*merkledag.ProtoNode, *ft.FSNode) ([]cid.Cid, error)) *partSink {
	return &partSink{n: n, below: below, want: map[string]bool{string(root.Hash()): true}}
}

func (s *partSink) Put(ctx context.Context, bl []blocks.Block) error {
	s.mu.Lock()
	for _, b := range bl {
		s.fetched++
		s.fetchedBytes += int64(len(b.RawData()))
	}
	s.mu.Unlock()
	return s.n.store.PutMany(ctx, bl)
}

func (s *partSink) Wants(c cid.Cid) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err == nil && s.want[string(c.Hash())]
}

// Local takes a node the walk reached and wants what below names under
// it; the node itself is wanted no more, so one linked from many places
// is walked once.
func (s *partSink) Local(ctx context.Context, b blocks.Block) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.want, string(b.Cid().Hash()))
	if b.Cid().Type() != cid.DagProtobuf {
		return nil
	}
	nd, err := merkledag.DecodeProtobuf(b.RawData())
	if err != nil {
		return fmt.Errorf("block %s: %w", b.Cid(), err)
	}
	fsn, err := ft.FSNodeFromBytes(nd.Data())
	if err != nil {
		return fmt.Errorf("block %s: not UnixFS: %w", b.Cid(), err)
	}
	more, err := s.below(nd, fsn)
	if err != nil {
		s.err = err
		return err
	}
	for _, c := range more {
		s.want[string(c.Hash())] = true
	}
	return nil
}
