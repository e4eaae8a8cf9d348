package exchange

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Choking (ProtoBlocksChoke), as BitTorrent does it. The getters that
// hold blocks this node is fetching (traders: they could send it what
// it lacks) share chokeSlots slots: those that sent it the most lately
// are served (tit-for-tat), and one more picked at random (the
// optimistic slot), a newcomer three times as likely, so the others
// learn what it uploads. A getter that only takes gets the optimistic
// slot now and then, so it does not slow the getters that trade. A free
// slot is taken at once, so a swarm of fewer than chokeSlots others
// never waits.
//
// Every other getter is served: one that holds nothing this node
// fetches could not have sent it anything, so nothing is owed either
// way. A seeder, or a getter done, serves everyone (what a seeder sends
// is bounded by super-seeding on the getters' side, scheduler.go); a
// node fetching one thing does not ration those getting another.
//
// A getter wants blocks (is interested) while it has a ProtoBlocks
// stream open and asked within interestFor, or was withheld a block
// since it was last unchoked. Older getters (ProtoBlocks) are choked
// too: their asks wait until they are unchoked.
const (
	chokeSlots      = 4
	rechokeEvery    = 10 * time.Second
	optimisticEvery = 3 // rechokes: the optimistic slot moves every 30 s
	interestFor     = 2 * rechokeEvery
	newcomerFor     = 3 * rechokeEvery // a newcomer is three times as likely optimistic
)

// choker decides which getters are served. It holds no locks and does
// no I/O, so its rules are table-tested.
type choker struct {
	peers      map[peer.ID]*cpeer
	optimistic peer.ID
	rounds     int
	pick       func(n int) int // a random index below n
}

// cpeer is what the choker knows of one getter.
type cpeer struct {
	streams  int
	since    time.Time // when its first stream opened
	lastWant time.Time
	waiting  bool    // withheld a block since it was last unchoked
	unchoked bool    // served now
	trading  bool    // it holds blocks this node fetches: it takes a slot
	rate     float64 // bytes a rechoke it sent this node, smoothed
}

func newChoker(pick func(int) int) *choker {
	return &choker{peers: map[peer.ID]*cpeer{}, pick: pick}
}

// open counts a ProtoBlocks stream of p.
func (c *choker) open(p peer.ID, now time.Time) {
	q := c.peers[p]
	if q == nil {
		q = &cpeer{since: now}
		c.peers[p] = q
	}
	q.streams++
}

// close ends one of p's streams; with its last, p is forgotten, and its
// slot goes at once to the getter waiting that sent the most (it asks
// no more, being withheld). It reports whether one was unchoked.
func (c *choker) close(p peer.ID) bool {
	q := c.peers[p]
	if q == nil {
		return false
	}
	if q.streams--; q.streams > 0 {
		return false
	}
	delete(c.peers, p)
	if !q.unchoked {
		return false
	}
	if p == c.optimistic {
		c.optimistic = ""
	}
	var next *cpeer
	for _, w := range c.peers {
		if w.waiting && !w.unchoked && (next == nil || w.rate > next.rate || w.rate == next.rate && w.since.Before(next.since)) {
			next = w
		}
	}
	if next == nil {
		return false
	}
	next.unchoked, next.waiting = true, false
	return true
}

// want records that p asked for blocks, and unchokes it at once when it
// is no trader or a slot is free. It reports whether p is served.
func (c *choker) want(p peer.ID, now time.Time, trading bool) bool {
	q := c.peers[p]
	if q == nil {
		return false
	}
	q.lastWant = now
	q.trading = trading
	if !q.unchoked && (!trading || c.regular() < chokeSlots) {
		q.unchoked, q.waiting = true, false
	}
	return q.unchoked
}

// withheld records that p was withheld a block: it stays interested
// until it is unchoked, though it asks no more.
func (c *choker) withheld(p peer.ID) {
	if q := c.peers[p]; q != nil {
		q.waiting = true
	}
}

// unchoked reports whether p is served.
func (c *choker) unchoked(p peer.ID) bool {
	q := c.peers[p]
	return q != nil && q.unchoked
}

// regular counts the traders unchoked outside the optimistic slot.
func (c *choker) regular() int {
	n := 0
	for id, q := range c.peers {
		if q.unchoked && q.trading && id != c.optimistic {
			n++
		}
	}
	return n
}

func (c *choker) interested(q *cpeer, now time.Time) bool {
	return q.streams > 0 && (q.waiting || now.Sub(q.lastWant) < interestFor)
}

// rechoke chooses who is served for the next rechokeEvery: trading
// says which getters hold blocks this node fetches, received the bytes
// each sent this node since the last rechoke. It reports whether anyone
// was unchoked.
func (c *choker) rechoke(now time.Time, trading func(peer.ID) bool, received map[peer.ID]int64) bool {
	c.rounds++
	var want []peer.ID
	serve := map[peer.ID]bool{}
	for id, q := range c.peers {
		q.rate = 0.5*q.rate + 0.5*float64(received[id])
		q.trading = trading(id)
		switch {
		case !c.interested(q, now):
		case !q.trading:
			serve[id] = true
		default:
			want = append(want, id)
		}
	}
	if len(want) == 0 {
		c.optimistic = ""
	} else {
		// The most generous first; then those served already, so slots
		// do not churn between equals; then the oldest.
		slices.SortFunc(want, func(a, b peer.ID) int {
			qa, qb := c.peers[a], c.peers[b]
			if qa.rate != qb.rate {
				return cmp.Compare(qb.rate, qa.rate)
			}
			if qa.unchoked != qb.unchoked {
				if qa.unchoked {
					return -1
				}
				return 1
			}
			if d := qa.since.Compare(qb.since); d != 0 {
				return d
			}
			return cmp.Compare(a, b)
		})
		for _, id := range want[:min(chokeSlots, len(want))] {
			serve[id] = true
		}
		rest := want[min(chokeSlots, len(want)):]
		if o := c.peers[c.optimistic]; o == nil || serve[c.optimistic] || !c.interested(o, now) || c.rounds%optimisticEvery == 0 {
			c.optimistic = c.pickOptimistic(rest, now)
		}
		if c.optimistic != "" {
			serve[c.optimistic] = true
		}
	}
	woke := false
	for id, q := range c.peers {
		if serve[id] && !q.unchoked {
			q.waiting = false
			woke = true
		}
		q.unchoked = serve[id]
	}
	return woke
}

// pickOptimistic picks one of the getters not served by rate, a
// newcomer three times as likely as the others.
func (c *choker) pickOptimistic(rest []peer.ID, now time.Time) peer.ID {
	var draw []peer.ID
	for _, id := range rest {
		draw = append(draw, id)
		if now.Sub(c.peers[id].since) < newcomerFor {
			draw = append(draw, id, id)
		}
	}
	if len(draw) == 0 {
		return ""
	}
	return draw[c.pick(len(draw))]
}

// chokes is the Exchange's choker, behind a lock, with a channel closed
// whenever a getter is unchoked.
type chokes struct {
	mu   sync.Mutex
	c    *choker
	wake chan struct{}
	last map[peer.ID]int64 // what each peer had sent at the last rechoke
}

func (ch *chokes) init(pick func(int) int) {
	ch.c = newChoker(pick)
	ch.wake = make(chan struct{})
	ch.last = map[peer.ID]int64{}
}

// signalLocked wakes the streams waiting for an unchoke.
func (ch *chokes) signalLocked() {
	close(ch.wake)
	ch.wake = make(chan struct{})
}

// changed returns the channel closed at the next unchoke.
func (ch *chokes) changed() <-chan struct{} {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.wake
}

func (ch *chokes) open(p peer.ID) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ch.c.open(p, time.Now())
}

func (ch *chokes) close(p peer.ID) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.c.close(p) {
		ch.signalLocked()
	}
	if ch.c.peers[p] == nil {
		delete(ch.last, p)
	}
}

func (ch *chokes) want(p peer.ID, trading bool) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	was := ch.c.unchoked(p)
	if ch.c.want(p, time.Now(), trading) && !was {
		ch.signalLocked()
	}
}

func (ch *chokes) withheld(p peer.ID) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ch.c.withheld(p)
}

func (ch *chokes) unchoked(p peer.ID) bool {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.c.unchoked(p)
}

// rechokeLoop rechokes every rechokeEvery until the exchange closes.
func (e *Exchange) rechokeLoop() {
	defer e.wg.Done()
	t := time.NewTicker(rechokeEvery)
	defer t.Stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-t.C:
		}
		e.rechoke(time.Now())
	}
}

// rechoke measures what each getter sent this node since the last
// rechoke and chooses who is served.
func (e *Exchange) rechoke(now time.Time) {
	ch := &e.chokes
	ch.mu.Lock()
	defer ch.mu.Unlock()
	received := map[peer.ID]int64{}
	e.mu.Lock()
	for p := range ch.c.peers {
		if st := e.stats[p]; st != nil {
			received[p] = st.Received - ch.last[p]
			ch.last[p] = st.Received
		}
	}
	e.mu.Unlock()
	if ch.c.rechoke(now, e.trades.has, received) {
		ch.signalLocked()
	}
}

// trades counts, for each peer, the levels being fetched in which it
// holds blocks: the getters this node trades with (see choker).
type trades struct {
	mu sync.Mutex
	n  map[peer.ID]int
}

func (t *trades) add(p peer.ID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == nil {
		t.n = map[peer.ID]int{}
	}
	t.n[p]++
}

func (t *trades) done(p peer.ID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n[p]--; t.n[p] <= 0 {
		delete(t.n, p)
	}
}

func (t *trades) has(p peer.ID) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n[p] > 0
}
