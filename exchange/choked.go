package exchange

import "github.com/libp2p/go-libp2p/core/peer"

// A peer that chokes this getter (choke.go) answers its asks "withheld"
// until it says it is unchoked: the getter asks it for nothing
// meanwhile, and what it was asked for is free to ask of others. What
// only choking peers and the seeder hold, the seeder is asked for even
// while it super-seeds (heldElsewhere): a holder that does not send is
// as good as none, and a getter that only takes would otherwise hold
// back every block it took from the seeder.
//
// Cancels: a block that arrives while another peer is asked for it too
// (endgame) is cancelled at that peer, which answers "withheld" if it
// had not sent it yet.

// withheld records that id withheld block i: cancelled by this getter
// (choked false), or because id chokes it. The request is void.
func (s *scheduler) withheld(id peer.ID, i int, choked bool) {
	p := s.peers[id]
	if p == nil || !p.asking[i] {
		return
	}
	st := &s.state[i]
	was := s.freeNow(i)
	p.asking[i] = false
	p.pending--
	p.inflight -= s.sizes[i]
	st.asked--
	if choked && !p.choked {
		p.choked = true
		s.rekey() // what it holds may be the seeder's to send now
	}
	if st.asked == 0 && !st.got {
		s.offer(i)
	}
	s.recount(i, was)
}

// unchoked records that id serves this getter again.
func (s *scheduler) unchoked(id peer.ID) {
	if p := s.peers[id]; p != nil {
		p.choked = false
	}
}

// askers returns the peers other than id asked for block i: once it
// arrived from id, their requests are cancelled.
func (s *scheduler) askers(id peer.ID, i int) []peer.ID {
	if s.state[i].asked == 0 {
		return nil
	}
	var out []peer.ID
	for q, p := range s.peers {
		if q != id && p.asking[i] {
			out = append(out, q)
		}
	}
	return out
}
