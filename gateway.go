package pollen

import (
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/go-cid"
)

// The local gateway (ui) reads DAGs through a block service: with the
// network started, one that fetches what is missing from connected peers
// as a reader asks for it, so a file can be read while it downloads.

// BlockService reads blocks from the store and, when fetch is set and
// the network started, asks peers for those missing, storing what comes.
func (n *Node) BlockService(fetch bool) blockservice.BlockService {
	if nw := n.online(); fetch && nw != nil {
		return blockservice.New(n.store, nw.ex.Fetcher())
	}
	return blockservice.New(n.store, nil)
}

// Private reports whether c is a private share's root or one of its
// blocks: what is missing of it must not be asked of any peer but its
// holders, so a reader gets only what is here.
func (n *Node) Private(c cid.Cid) bool { return n.access.private(c) }
