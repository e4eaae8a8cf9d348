package exchange

import (
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Peer trust: a peer that sends blocks nobody asked for (over Bitswap,
// wrong bytes for a wanted block arrive as such) is cut off, and so is a
// pollen peer that sends wrong bytes for maxDamaged blocks. One damaged
// block is what a seeder with a bad disk sends: the block is dropped and
// asked of another peer, and the rest of what it holds is still good.

const (
	// maxDamaged is the different damaged blocks a pollen peer may send
	// before it is cut off; each costs at most one block of bandwidth.
	maxDamaged = 3

	// A peer is cut off at the second block nobody asked for: Bitswap
	// servers only send what was wanted, and a block asked for in the
	// last askedFor counts as asked, so late duplicates are not lies.
	maxUnasked = 2
	askedFor   = 10 * time.Minute
)

// judgement counts the blocks a peer sent that nobody asked for, and the
// damaged ones it sent for blocks that were asked for.
type judgement struct {
	unasked int
	// damaged holds the blocks the peer sent damaged, each once: a seeder
	// with one bad block sends it to every get until its scrub finds it,
	// and is not cut off for that; three different ones are not chance.
	damaged map[string]struct{}
	banned  bool
}

// judgementOf returns p's judgement, made on first use. Called with mu
// held.
func (e *Exchange) judgementOf(p peer.ID) *judgement {
	j := e.judged[p]
	if j == nil {
		j = &judgement{}
		e.judged[p] = j
	}
	return j
}

// damaged records that p sent wrong bytes for a block that was asked of
// it, and cuts it off at maxDamaged; it reports whether p is cut off.
func (e *Exchange) damaged(p peer.ID, c cid.Cid) bool {
	e.mu.Lock()
	j := e.judgementOf(p)
	if j.damaged == nil {
		j.damaged = map[string]struct{}{}
	}
	j.damaged[string(c.Hash())] = struct{}{}
	ban := len(j.damaged) >= maxDamaged
	e.mu.Unlock()
	e.log.Warn("peer sent a damaged block; asking others for it", "peer", p, "cid", c)
	if ban {
		e.liar(p)
	}
	return ban
}

// judge cuts off a peer that keeps sending blocks nobody asked for: Bitswap
// computes a received block's CID from its bytes, so wrong bytes for a
// wanted block arrive as a block nobody wanted, and are dropped. Without
// this, a peer that answers every want with wrong bytes would hold a fetch
// until it stalls.
func (e *Exchange) judge(p peer.ID, bl []blocks.Block) {
	if len(bl) == 0 {
		return
	}
	// Compare multihashes: a peer may answer a CIDv1 want under CIDv0.
	e.mu.Lock()
	j := e.judgementOf(p)
	for _, b := range bl {
		if !e.asked.has(b.Cid().Hash(), time.Now()) {
			j.unasked++
		}
	}
	ban := j.unasked >= maxUnasked
	e.mu.Unlock()
	if ban {
		e.liar(p)
	}
}

// liar cuts off a peer that sent wrong bytes, once.
func (e *Exchange) liar(p peer.ID) {
	e.mu.Lock()
	j := e.judgementOf(p)
	first := !j.banned
	j.banned = true
	e.mu.Unlock()
	if !first {
		return
	}
	e.log.Warn("peer sends wrong bytes; disconnecting", "peer", p)
	if !e.enter() {
		return
	}
	go func() {
		defer e.wg.Done()
		if e.misbehaving != nil {
			e.misbehaving(p)
		}
		e.h.Network().ClosePeer(p)
	}()
}

// ask records that cs are being asked for.
func (e *Exchange) ask(cs []cid.Cid) {
	now := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range cs {
		e.asked.add(c.Hash(), now)
	}
}
