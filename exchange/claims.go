package exchange

import (
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Claims are what other getters say they are fetching
// (ProtoHaveFetching). A block another getter is bringing counts, for
// rarest first, as one more holder; and the seeder, while it
// super-seeds, is not asked for it: this getter takes it from the other
// once it holds it, so the seeder's link carries it once.
//
// A peer's word on a block counts once and for fetchHold at most: a peer
// that says it fetches everything and brings nothing holds a level back
// by fetchHold, once, and then is not believed on that level again.
const fetchHold = 30 * time.Second

// The states of a peer's claim on a block.
const (
	claimNone  = iota
	claimLive  // it said it is fetching the block, and does not hold it yet
	claimSpent // it came to hold it, or the claim expired: not counted again
)

// claim is a peer's word on a block, in the order the words came.
type claim struct {
	p  *speer
	i  int32
	at time.Duration // elapsed when it came
}

// fetching records that id is fetching the blocks idx.
func (s *scheduler) fetching(id peer.ID, idx []int) {
	p := s.peers[id]
	if p == nil {
		return
	}
	if p.claimed == nil {
		p.claimed = make([]uint8, len(s.sizes))
	}
	for _, i := range idx {
		if p.has[i] || p.claimed[i] != claimNone {
			continue
		}
		p.claimed[i] = claimLive
		s.live++
		s.state[i].fetchers++
		s.claims = append(s.claims, claim{p, int32(i), s.elapsed})
	}
}

// unclaim ends p's claim on block i, if it has one: it came to hold the
// block, it left, or the claim expired.
func (s *scheduler) unclaim(p *speer, i int) {
	if p.claimed == nil || p.claimed[i] != claimLive {
		return
	}
	p.claimed[i] = claimSpent
	s.live--
	st := &s.state[i]
	if st.fetchers--; st.fetchers == 0 && st.holders == 1 && !st.got && st.asked == 0 {
		s.offer(i) // the seeder's to send again
	}
}

// expire ends the claims older than fetchHold.
func (s *scheduler) expire() {
	k := 0
	for ; k < len(s.claims) && s.elapsed-s.claims[k].at >= fetchHold; k++ {
		s.unclaim(s.claims[k].p, int(s.claims[k].i))
	}
	s.claims = s.claims[k:]
}
