package exchange

import (
	"math"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// scheduler decides, for one level of a DAG, which block to ask of which
// pollen peer: of the blocks a peer holds that nobody is asked for, one
// that fewest peers hold (rarest first). It holds no locks and does no
// I/O: the level feeds it events (a peer's list of what it holds, an
// answer, a block stored, a tick of the clock) and asks it what to
// request next, so its rules are table-tested.
//
// Ties go in DAG order while every peer holds the whole level (the export
// writes in order and the disk streams), and in an order of this getter's
// own once some peer holds only part of it: getters fetching together
// then ask the seeder for different blocks and trade them. Once every
// block some peer holds is asked for, an idle peer may ask again for one
// another peer has been bringing for endgameAfter (endgame: the first
// answer wins). Not before: a getter holding a few blocks is idle most of
// the time, and a second request from it is a copy the swarm pays for
// twice. A spare peer (setSpare) is asked only for what no other peer
// holds, and never twice.
//
// Super-seeding: while one peer alone holds the whole level (the seeder),
// it is asked only for blocks no other peer holds nor says it is fetching
// (claims.go), and never twice. What
// the seeder uploads is then what the swarm lacks, each block once, and
// the getters trade the rest: a block another getter holds costs the
// seeder's link a second copy when it comes from the seeder, and its
// link is the swarm's narrowest. Once a second peer holds the whole
// level, the swarm has a full copy outside the seeder and every peer is
// asked as any other.
type scheduler struct {
	sizes   []int64 // each block's expected size
	state   []itemState
	peers   map[peer.ID]*speer
	rank    []int32           // each block's place in the tie order
	ordered bool              // rank is the getter's own order, not the DAG's
	shuffle func(n int) []int // the getter's own order, when needed
	left    int               // blocks not stored yet
	whole   int               // peers holding the whole level
	claims  []claim           // what peers said they are fetching, oldest first
	live    int               // of them, claims still counted
	free    int               // blocks some peer holds, neither asked for nor arrived
	since   time.Time         // when the level began
	elapsed time.Duration     // since the level began, in ticks
	// spareWait is how long from the level's start spare peers wait for
	// the others (see graceFrom).
	spareWait time.Duration
	sources   map[peer.ID]*source // the peers the fetch was pointed at (sources.go)
	// sourceWait is how long from the level's start they are waited for.
	sourceWait time.Duration
	// The getter's pace (sluggish.go): all peers' bytes a second,
	// smoothed, and the most it was on the level.
	flow, peak float64
}

type itemState struct {
	holders  int           // peers known to hold it
	fetchers int           // other peers that said they are fetching it (claims.go)
	plain    int           // of them, peers that are not spare
	asked    int           // requests in flight
	got      bool          // arrived, being stored
	done     bool          // stored
	bitswap  bool          // handed to Bitswap, until a pollen peer that gets it is asked (Bitswap is told to strike it)
	orphan   time.Time     // since when no pollen peer holds it nor is asked
	askedAt  time.Duration // elapsed when it was last asked for
	askedOf  *speer        // the peer it was last asked of
}

// speer is what the scheduler knows of one peer.
type speer struct {
	has      []bool
	claimed  []uint8 // its claims by block (claims.go); nil until its first
	holds    int     // how many blocks of the level it holds
	answered bool    // its first list of what it holds arrived
	spare    bool    // asked only for what no other peer holds (see setSpare)
	choked   bool    // it withheld a block: asked nothing until it unchokes (choked.go)
	// Its pace (sluggish.go): bytes arriving since the last tick, a
	// second smoothed, time with requests out, and the judgement.
	arrived  int64
	flow     float64
	busy     time.Duration
	sluggish bool
	asking   []bool
	pending  int     // requests in flight
	inflight int64   // bytes asked for, not arrived
	window   int64   // bytes in flight allowed
	received int64   // bytes since the last tick, for the rate
	rate     float64 // bytes a second; 0 until first measured (slow start)
	// cands holds the blocks it may be asked for, fewest holders first,
	// then in tie order. Entries go stale as holders change or blocks
	// arrive; next drops or re-keys them as they surface, so a pick costs
	// a few heap operations, not a scan of the level.
	cands candHeap
}

// key is how rare block i is: the peers that hold it and those that said
// they are fetching it.
func (s *scheduler) key(i int) int32 {
	return int32(s.state[i].holders + s.state[i].fetchers)
}

// Windows: bytes asked of a peer and not yet arrived, about windowTime of
// its measured rate within [minWindow, maxWindow]. A short queue at a
// slow peer keeps rarest-first picks fresh; a long one at a fast peer
// keeps its link busy. Until its rate is first measured, a peer's window
// starts at startWindow and grows by each block that arrives (slow start,
// as TCP's: it doubles each round trip). startWindow is a few blocks: with
// one, a peer's second lane had nothing to ask for and the transport
// below, ramping up itself (TCP's or QUIC's slow start, yamux's stream
// windows), had one block to grow on, so on a long path the first blocks
// came a round trip apart (docs/performance.md).
const (
	minWindow   = 1 << 20
	startWindow = 4 << 20
	maxWindow   = 32 << 20
	windowTime  = 1.0 // seconds
	// orphanAfter is how long a block may have no pollen holder before
	// Bitswap is asked for it (other IPFS nodes, the DHT), unless every
	// pollen peer already said what it holds.
	orphanAfter = time.Second
	// spareGrace is how long spare peers wait, on a level, for another
	// holder to be dialled and say what it holds (peer exchange finds
	// it): on a LAN, tens of milliseconds.
	spareGrace = 500 * time.Millisecond
	// endgameAfter is how long a request must be out before an idle peer
	// asks for the same block again: one that comes within it was not
	// late, and its second copy was paid for twice. On a LAN, where a
	// block comes in milliseconds, followers trading a live change
	// fetched every block twice without it.
	endgameAfter = 2 * tickEvery
)

// windowFor is the window for a peer sending rate bytes a second.
func windowFor(rate float64) int64 {
	return min(maxWindow, max(minWindow, int64(rate*windowTime)))
}

func newScheduler(sizes []int64, shuffle func(int) []int, now time.Time) *scheduler {
	rank := make([]int32, len(sizes))
	for i := range rank {
		rank[i] = int32(i)
	}
	return &scheduler{
		sizes: sizes, state: make([]itemState, len(sizes)), peers: map[peer.ID]*speer{},
		rank: rank, shuffle: shuffle, left: len(sizes), since: now, spareWait: spareGrace,
	}
}

// freeNow reports whether block i is free to ask: held, not asked, not
// arrived.
func (s *scheduler) freeNow(i int) bool {
	st := &s.state[i]
	return !st.got && st.asked == 0 && st.holders > 0
}

// recount updates free after block i changed; was is freeNow(i) from
// before the change.
func (s *scheduler) recount(i int, was bool) {
	switch now := s.freeNow(i); {
	case now && !was:
		s.free++
	case was && !now:
		s.free--
	}
}

// offer makes block i a candidate again for every peer holding it (its
// request was dropped, so it is free to ask).
func (s *scheduler) offer(i int) {
	for _, p := range s.peers {
		if p.has[i] {
			p.cands.push(cand{s.key(i), s.rank[i], int32(i)})
		}
	}
}

// addPeer starts counting a peer; rate is what an earlier level measured
// (0: slow start).
func (s *scheduler) addPeer(id peer.ID, rate float64) {
	p := &speer{has: make([]bool, len(s.sizes)), asking: make([]bool, len(s.sizes)), window: startWindow, rate: rate}
	if rate > 0 {
		p.window = windowFor(rate)
	}
	s.peers[id] = p
}

// setSpare makes id a spare peer: one asked only for blocks that no
// other peer holds, and, until the others answered, not before
// spareGrace. A live folder's follower spares the sharer so that the
// copy of a change it uploaded to one follower is what the others fetch.
func (s *scheduler) setSpare(id peer.ID) {
	if p := s.peers[id]; p != nil && p.holds == 0 {
		p.spare = true
	}
}

// graceFrom counts spareGrace from t, not from the level's start, while
// no other peer is known: a level after the first, or a fetch begun
// after the version was told of, has already given other holders their
// time to be found, and a follower alone would otherwise wait on every
// level. A known peer is still waited for (spareMay).
func (s *scheduler) graceFrom(t time.Time) {
	s.spareWait = max(0, spareGrace-s.since.Sub(t))
}

// spareMay reports whether spare peers may be asked now: every other
// peer said what it holds, and there is one, or spareGrace passed
// (the others may still be being dialled).
func (s *scheduler) spareMay() bool {
	plain := 0
	for _, p := range s.peers {
		if !p.spare {
			if !p.answered {
				// Its answer comes in a round trip: worth the level's
				// grace, whatever graceFrom said.
				return s.elapsed >= spareGrace
			}
			plain++
		}
	}
	return plain > 0 || s.elapsed >= s.spareWait
}

// seeding reports whether p is the one peer holding the whole level,
// asked only for what no other peer holds (super-seeding).
func (s *scheduler) seeding(p *speer) bool {
	return s.whole == 1 && p.holds == len(s.sizes)
}

// rekey rebuilds every peer's candidates, after the keys or the rules
// that dropped some of them changed.
func (s *scheduler) rekey() {
	for _, q := range s.peers {
		q.cands = q.cands[:0]
		for i, has := range q.has {
			if has {
				q.cands = append(q.cands, cand{s.key(i), s.rank[i], int32(i)})
			}
		}
		q.cands.heapify()
	}
}

// known reports whether id is counted.
func (s *scheduler) known(id peer.ID) bool { _, ok := s.peers[id]; return ok }

// dropPeer forgets a peer that left: what it was asked for is free to ask
// of others.
func (s *scheduler) dropPeer(id peer.ID) {
	p := s.peers[id]
	if p == nil {
		return
	}
	delete(s.peers, id)
	p.rate = 0 // its requests are not waited on (see late)
	if p.holds == len(s.sizes) {
		s.whole--
	}
	for i := range s.sizes {
		was := s.freeNow(i)
		s.unclaim(p, i)
		if p.has[i] {
			s.state[i].holders--
			if !p.spare {
				s.state[i].plain--
			}
		}
		if p.asking[i] {
			if s.state[i].asked--; s.state[i].asked == 0 && !s.state[i].got {
				s.offer(i)
			}
		}
		s.recount(i, was)
	}
	if p.holds > 0 && s.left > 0 {
		// What it held may be the seeder's now (it was the one sending
		// holder besides it: heldElsewhere), or a spare peer's.
		s.rekey()
	}
}

// haves records that id holds the blocks idx.
func (s *scheduler) haves(id peer.ID, idx []int) {
	p := s.peers[id]
	if p == nil {
		return
	}
	p.answered = true
	s.heard(id)
	wasWhole := p.holds == len(s.sizes)
	for _, i := range idx {
		if !p.has[i] {
			was := s.freeNow(i)
			p.has[i] = true
			p.holds++
			s.unclaim(p, i)
			s.state[i].holders++
			if !p.spare {
				s.state[i].plain++
			}
			s.recount(i, was)
			p.cands.push(cand{s.key(i), s.rank[i], int32(i)})
		}
	}
	if !wasWhole && p.holds == len(s.sizes) {
		if s.whole++; s.whole == 2 {
			s.rekey() // the seeder's blocks others hold are candidates again
		}
	}
	if p.holds < len(s.sizes) && !s.ordered {
		// A peer holding part of the level: from now on ties go in this
		// getter's own order, and every peer's candidates are re-keyed.
		s.ordered = true
		for k, i := range s.shuffle(len(s.sizes)) {
			s.rank[i] = int32(k)
		}
		s.rekey()
	}
}

// next picks what to ask id for now and counts it asked, or returns -1:
// its window is full, or nothing it holds is worth asking.
func (s *scheduler) next(id peer.ID) int {
	p := s.peers[id]
	if p == nil || p.choked || p.inflight >= s.limit(p) || p.spare && !s.spareMay() {
		return -1
	}
	best := -1
	for len(p.cands) > 0 {
		c := p.cands[0]
		i := int(c.i)
		st := &s.state[i]
		switch {
		case st.got || !p.has[i] || st.asked > 0 && !s.stuck(i) || p.asking[i]:
			p.cands.pop() // offered again if its request is dropped
			continue
		case p.spare && st.plain > 0, s.seeding(p) && (st.fetchers > 0 || s.heldElsewhere(i, p)),
			p.sluggish && s.heldElsewhere(i, p):
			p.cands.pop() // offered again if its other holders leave
			continue
		case c.holders != s.key(i) || c.rank != s.rank[i]:
			p.cands.pop() // stale: back in at its place
			p.cands.push(cand{s.key(i), s.rank[i], c.i})
			continue
		}
		p.cands.pop()
		best = i
		break
	}
	if best < 0 && p.pending == 0 && s.free == 0 && !p.spare && !s.seeding(p) {
		best = s.endgame(p) // a second request, only from an idle peer
	}
	if best >= 0 {
		was := s.freeNow(best)
		p.asking[best] = true
		p.pending++
		p.inflight += s.sizes[best]
		s.state[best].asked++
		s.state[best].askedAt = s.elapsed
		s.state[best].askedOf = p
		s.recount(best, was)
	}
	return best
}

// endgame picks, for an idle peer once nothing it holds is free to ask,
// a block another peer has been bringing for endgameAfter (asked once
// only), in tie order: the first answer wins. It scans the level, but
// only at its end.
func (s *scheduler) endgame(p *speer) int {
	dup, dupRank := -1, int32(math.MaxInt32)
	for i := range s.state {
		st := &s.state[i]
		if st.got || !p.has[i] || p.asking[i] || st.asked != 1 || s.elapsed-st.askedAt < s.late(i) {
			continue
		}
		if s.rank[i] < dupRank {
			dup, dupRank = i, s.rank[i]
		}
	}
	return dup
}

// late is how long a block's one request may be out before an idle
// peer asks for it again: endgameAfter, or twice the time the peer it
// was asked of takes to send what it was asked for, when that is
// longer. In a swarm behind slow links a getter's share of a peer's
// uplink brings a block in seconds, and a second request after
// endgameAfter was a copy every time, paid for by another getter's
// uplink.
func (s *scheduler) late(i int) time.Duration {
	q := s.state[i].askedOf
	if q == nil || !q.asking[i] || q.rate <= 0 {
		return endgameAfter
	}
	return max(endgameAfter, time.Duration(2*float64(q.inflight)/q.rate*float64(time.Second)))
}

// answered records id's answer for block i: its n bytes (ok), or that it
// no longer holds it. It reports whether this is the block's first
// arrival (the caller stores it; a later copy is dropped).
func (s *scheduler) answered(id peer.ID, i int, ok bool, n int64) (first bool) {
	st := &s.state[i]
	was := s.freeNow(i)
	defer func() { s.recount(i, was) }()
	if p := s.peers[id]; p != nil && p.asking[i] {
		p.asking[i] = false
		p.pending--
		p.inflight -= s.sizes[i]
		st.asked--
		if ok {
			p.received += n
			if p.rate == 0 { // slow start
				p.window = min(maxWindow, p.window+n)
			}
		} else if p.has[i] { // it no longer has it (GC)
			if p.holds == len(s.sizes) {
				s.whole--
			}
			p.has[i] = false
			p.holds--
			st.holders--
		}
		if !ok && st.asked == 0 && !st.got {
			s.offer(i)
		}
	}
	if !ok {
		return false
	}
	first = !st.got
	st.got = true
	return first
}

// stored records that block i is in the store; it reports whether that
// is news.
func (s *scheduler) stored(i int) bool {
	st := &s.state[i]
	if st.done {
		return false
	}
	was := s.freeNow(i)
	st.done, st.got = true, true
	s.recount(i, was)
	s.left--
	return true
}

// tick measures each peer's rate over dt and sizes its window to it; it
// returns the rates measured, for the next level to start from.
func (s *scheduler) tick(dt time.Duration) map[peer.ID]float64 {
	s.elapsed += dt
	s.expire()
	s.measureFlow(dt)
	rates := map[peer.ID]float64{}
	for id, p := range s.peers {
		r := float64(p.received) / dt.Seconds()
		p.received = 0
		switch {
		case p.rate > 0:
			p.rate = 0.7*p.rate + 0.3*r
		case r > 0:
			p.rate = r // the first measurement ends slow start
		default:
			continue // nothing arrived yet: still in slow start
		}
		p.window = windowFor(p.rate)
		rates[id] = p.rate
	}
	return rates
}

// orphans returns the blocks to hand to Bitswap now, and counts them
// handed: those no pollen peer holds, is asked for, or says it is
// fetching, once every peer has said what it holds, or once they have
// waited orphanAfter. A block another getter fetches it will hold in a
// moment; Bitswap's session would ask everyone, the seeder too. And
// while other getters say they fetch blocks of the level, none goes to
// Bitswap: they fetch from a pollen holder this getter has not met yet
// (a seeder whose link is full takes seconds to answer a dial), and the
// blocks come through them. A claim counts for fetchHold at most, so
// getters that stop fetching hold nothing back for longer. Nor while a
// peer the fetch was pointed at has not said what it holds (sources.go).
func (s *scheduler) orphans(now time.Time) []int {
	answered := true
	for _, p := range s.peers {
		answered = answered && p.answered
	}
	waiting := s.live > 0 || s.awaiting(now)
	var out []int
	for i := range s.state {
		st := &s.state[i]
		if st.got || st.bitswap || st.holders > 0 || st.asked > 0 || st.fetchers > 0 {
			st.orphan = time.Time{}
			continue
		}
		if st.orphan.IsZero() {
			st.orphan = now
		}
		if !waiting && (answered || now.Sub(st.orphan) >= orphanAfter && now.Sub(s.since) >= orphanAfter) {
			st.bitswap = true
			out = append(out, i)
		}
	}
	return out
}

// takeBack reports whether block i, just picked, was handed to Bitswap,
// and counts it taken back: a pollen peer brings it, and should that
// fail, it may be handed over again.
func (s *scheduler) takeBack(i int) bool {
	st := &s.state[i]
	was := st.bitswap
	st.bitswap = false
	return was
}

// windowOf is the bytes a peer may have in flight; 0 for a peer not
// counted.
func (s *scheduler) windowOf(id peer.ID) int64 {
	if p := s.peers[id]; p != nil {
		return s.limit(p)
	}
	return 0
}

// limit is p's window: a seeder that other getters share holds no
// more than minWindow of this getter's requests, even in slow start.
// What it was asked for, others may not ask it for; asked at once,
// before their claims (claims.go) could arrive, blocks of a slow
// start's window are the same blocks another getter asked for, and a
// long queue at the seeder holds each claim back for as long.
func (s *scheduler) limit(p *speer) int64 {
	if len(s.peers) > 1 && s.seeding(p) {
		return min(p.window, minWindow)
	}
	return p.window
}
