package exchange

import (
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"
)

// The serving side's budget: what peers can make this node hold. Every
// ProtoHave subscription and ProtoBlocks stream is counted against its
// peer and against all peers together, and so are the CIDs they list
// (a listed CID costs about 170 bytes while it is served: the CID, and
// the subscription's index of it). A stream over budget is reset before
// its list is read, so a flood of streams or lists costs this node a
// bounded amount of memory however many identities it comes from.
// go-libp2p's resource manager bounds the streams and connections below
// this; its memory limits are not used, because its per-protocol default
// (16 MiB a peer) is smaller than one honest level of a big DAG.
const (
	maxHavesPerPeer  = 16      // ProtoHave subscriptions at once
	maxBlocksPerPeer = 32      // ProtoBlocks streams at once
	maxCIDsPerPeer   = 1 << 18 // CIDs listed by a peer's streams, ~44 MiB
	maxCIDsTotal     = 1 << 20 // CIDs listed by all peers, ~170 MiB
)

type streamKind uint8

const (
	haveStream streamKind = iota
	blocksStream
)

// budget counts what peers' streams hold. The zero value is ready.
type budget struct {
	mu    sync.Mutex
	peers map[peer.ID]*load
	cids  int // CIDs held by all peers
	// limits, zero for the defaults above (tests set small ones)
	perPeerCIDs, totalCIDs int
}

// load is what one peer's streams hold.
type load struct {
	haves, blocks, cids int
}

// open counts a stream of kind for p, unless p has as many as it may.
func (b *budget) open(p peer.ID, kind streamKind) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.peers == nil {
		b.peers = map[peer.ID]*load{}
	}
	l := b.peers[p]
	if l == nil {
		l = &load{}
		b.peers[p] = l
	}
	switch kind {
	case haveStream:
		if l.haves >= maxHavesPerPeer {
			return false
		}
		l.haves++
	default:
		if l.blocks >= maxBlocksPerPeer {
			return false
		}
		l.blocks++
	}
	return true
}

// close ends a stream open counted.
func (b *budget) close(p peer.ID, kind streamKind) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.peers[p]
	if l == nil {
		return
	}
	if kind == haveStream {
		l.haves--
	} else {
		l.blocks--
	}
	if l.haves == 0 && l.blocks == 0 && l.cids == 0 {
		delete(b.peers, p)
	}
}

// take counts n CIDs listed by p, unless that passes p's share or the
// total; give returns them.
func (b *budget) take(p peer.ID, n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	perPeer, total := b.perPeerCIDs, b.totalCIDs
	if perPeer == 0 {
		perPeer = maxCIDsPerPeer
	}
	if total == 0 {
		total = maxCIDsTotal
	}
	l := b.peers[p]
	if l == nil || l.cids+n > perPeer || b.cids+n > total {
		return false
	}
	l.cids += n
	b.cids += n
	return true
}

func (b *budget) give(p peer.ID, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if l := b.peers[p]; l != nil {
		l.cids -= n
		b.cids -= n
	}
}

// held returns the CIDs held by all peers' streams.
func (b *budget) held() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cids
}
