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
// at under 1/sluggishShare of the pace of the fastest peer asked now is
// sluggish:
//
//   - what it holds counts as held by nobody for super-seeding
//     (heldElsewhere), as a choking peer's does;
//   - it is asked only for blocks no brisk peer holds;
//   - a block asked of it alone may be asked of another (stuck), and is
//     cancelled at it once it arrives.
//
// The pace is the bytes of its answers as they arrive, whole blocks or
// not, while it has requests out: a peer sending a 1 MiB block at a
// few KB/s is judged in a second, not once the block is in.
const (
	sluggishShare = 16
	sluggishAfter = time.Second // of requests out, before a peer's pace is judged
)

// A peer's pace is judged, once it had requests out for sluggishAfter,
// against the best pace of the level, that of peers idle now included
// (the seeder, once it has nothing more to send this getter, is the
// pace a trickle is slow against).

// arrived records n bytes of id's answers read, whole or in part.
func (s *scheduler) arrived(id peer.ID, n int64) {
	if p := s.peers[id]; p != nil {
		p.arrived += n
	}
}

// measureFlow measures each peer's pace over dt and judges which are
// sluggish; called at every tick.
func (s *scheduler) measureFlow(dt time.Duration) {
	best := 0.0
	for _, p := range s.peers {
		if p.pending > 0 || p.arrived > 0 {
			p.flow = 0.5*p.flow + 0.5*float64(p.arrived)/dt.Seconds()
			p.busy += dt
		} else {
			p.busy = 0
		}
		p.arrived = 0
		best = max(best, p.flow)
	}
	changed := false
	for _, p := range s.peers {
		slow := p.pending > 0 && p.busy >= sluggishAfter && p.flow*sluggishShare < best
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
