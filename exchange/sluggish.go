package exchange

import (
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Sluggish peers. A getter that gives back next to nothing (its upload
// capped near zero, or its link full) still says what it holds, and
// may hold blocks that only the seeder holds besides. Counted as any
// holder, it would hold them back: the seeder, super-seeding, is not
// asked for a block another peer holds, and a block asked of one peer
// is not asked of another before endgame. So a peer whose bytes arrive
// at under 1/sluggishShare of its fair share is sluggish:
//
//   - what it holds counts as held by nobody for super-seeding
//     (heldElsewhere), as a choking peer's does;
//   - it is asked only for blocks no brisk peer holds;
//   - a block asked of it alone may be asked of another (stuck), and is
//     cancelled at it once it arrives.
//
// Its fair share is the most this getter has taken in at once on the
// level (its own link, as far as it was shown) split among the peers
// sending now. Not the pace of the fastest peer: in a wide swarm the
// getter's link is split among twenty peers, and against a peer that
// once sent alone at the link's full rate each of them looked a
// trickle, and every block asked of one was asked again of another
// (docs/performance.md). The peak counts peers idle now too: the
// seeder, once it has nothing more to send this getter, leaves a
// trickle the only peer sending, and its share the whole link.
//
// The pace is the bytes of its answers as they arrive, whole blocks or
// not, while it has requests out: a peer sending a 1 MiB block at a
// few KB/s is judged in sluggishAfter, not once the block is in.
const (
	sluggishShare = 32
	sluggishAfter = 3 * time.Second // of requests out, before a peer's pace is judged
	// flowWeight is the weight of a tick's bytes in a pace: smoothed
	// over about two seconds, as a TCP flow through a full queue stalls
	// for a second at a time and comes back.
	flowWeight = 0.125
)

// arrived records n bytes of id's answers read, whole or in part.
func (s *scheduler) arrived(id peer.ID, n int64) {
	if p := s.peers[id]; p != nil {
		p.arrived += n
	}
}

// smooth adds n bytes over dt to the pace prev.
func smooth(prev float64, n int64, dt time.Duration) float64 {
	return (1-flowWeight)*prev + flowWeight*float64(n)/dt.Seconds()
}

// measureFlow measures each peer's pace over dt, and the getter's, and
// judges which peers are sluggish; called at every tick.
func (s *scheduler) measureFlow(dt time.Duration) {
	total, sending := int64(0), 0
	for _, p := range s.peers {
		if p.pending > 0 || p.arrived > 0 {
			p.flow = smooth(p.flow, p.arrived, dt)
			p.busy += dt
			sending++
		} else {
			p.busy = 0
		}
		total += p.arrived
		p.arrived = 0
	}
	s.flow = smooth(s.flow, total, dt)
	s.peak = max(s.peak, s.flow)
	changed := false
	for _, p := range s.peers {
		slow := p.pending > 0 && p.busy >= sluggishAfter && p.flow*sluggishShare*float64(sending) < s.peak
		if slow != p.sluggish {
			p.sluggish = slow
			changed = true
		}
	}
	if changed {
		s.rekey() // blocks passed over for them, or theirs, are candidates again
	}
}

// heldElsewhere reports whether a peer other than p holds block i and
// sends it: neither choking this getter nor sluggish. A block that two
// or more choking peers hold counts as held too: one of them will
// unchoke this getter (an optimistic slot moves every 30 s), and a
// getter choked by the whole swarm (one that takes and gives nothing)
// would otherwise take every block from the seeder. One choking holder
// alone may be a taker holding the block back, and does not count.
func (s *scheduler) heldElsewhere(i int, p *speer) bool {
	if s.state[i].holders < 2 {
		return false
	}
	choking := 0
	for _, q := range s.peers {
		if q == p || !q.has[i] || q.sluggish {
			continue
		}
		if !q.choked {
			return true
		}
		if choking++; choking >= 2 {
			return true
		}
	}
	return false
}

// stuck reports whether block i's one request is out at a sluggish
// peer: another may be asked for it.
func (s *scheduler) stuck(i int) bool {
	st := &s.state[i]
	q := st.askedOf
	return st.asked == 1 && q != nil && q.sluggish && q.asking[i]
}
