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
	maxPeersPerPeer  = 4       // ProtoPeers and ProtoUnlock requests at once
	maxCIDsPerPeer   = 1 << 18 // CIDs listed by a peer's streams, ~44 MiB
	maxCIDsTotal     = 1 << 20 // CIDs listed by all peers, ~170 MiB
)

type streamKind uint8

const (
	haveStream streamKind = iota
	blocksStream
	peersStream // and ProtoUnlock's: one small request each
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
	haves, blocks, peers, cids int
	leases                     []*lease // oldest first
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
	case peersStream:
		if l.peers >= maxPeersPerPeer {
			return false
		}
		l.peers++
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
	switch kind {
	case haveStream:
		l.haves--
	case peersStream:
		l.peers--
	default:
		l.blocks--
	}
	if l.haves == 0 && l.blocks == 0 && l.peers == 0 && l.cids == 0 {
		delete(b.peers, p)
	}
}

// A lease is CIDs a stream holds, taken by take and given back by give.
type lease struct {
	p       peer.ID
	n       int
	cancel  func() // ends the stream that holds them
	evicted bool   // given back already, by an eviction
}

// take counts n CIDs listed by p's stream, unless that passes p's share;
// cancel ends that stream. Past the total, a peer holding less than a
// fair share (the total over the peers holding any) is let in by
// evicting the streams of the peer that holds the most: a few
// identities that fill the total do not shut honest getters out.
func (b *budget) take(p peer.ID, n int, cancel func()) (*lease, bool) {
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
	if l == nil || l.cids+n > perPeer {
		return nil, false
	}
	if b.cids+n > total && !b.evictFor(l, n, total) {
		return nil, false
	}
	l.cids += n
	b.cids += n
	le := &lease{p: p, n: n, cancel: cancel}
	l.leases = append(l.leases, le)
	return le, true
}

// evictFor makes room for n more CIDs of the peer with load l by ending
// the streams of the peer holding the most, if l holds less than a fair
// share and that peer more. Called with mu held.
func (b *budget) evictFor(l *load, n, total int) bool {
	holders := 1
	if l.cids > 0 {
		holders = 0
	}
	var top *load
	for _, o := range b.peers {
		if o.cids > 0 {
			holders++
			if top == nil || o.cids > top.cids {
				top = o
			}
		}
	}
	fair := total / holders
	if l.cids+n > fair || top == nil || top == l || top.cids <= fair {
		return false
	}
	for len(top.leases) > 0 && b.cids+n > total {
		le := top.leases[0]
		top.leases = top.leases[1:]
		le.evicted = true
		top.cids -= le.n
		b.cids -= le.n
		le.cancel()
	}
	return b.cids+n <= total
}

// give returns a lease's CIDs, unless an eviction did.
func (b *budget) give(le *lease) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if le.evicted {
		return
	}
	le.evicted = true
	if l := b.peers[le.p]; l != nil {
		l.cids -= le.n
		b.cids -= le.n
		for i, o := range l.leases {
			if o == le {
				l.leases = append(l.leases[:i], l.leases[i+1:]...)
				break
			}
		}
	}
}

// held returns the CIDs held by all peers' streams.
func (b *budget) held() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cids
}
