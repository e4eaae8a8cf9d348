package exchange

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Rarest-first scheduling over ProtoHave and ProtoBlocks (see wire.go).
const (
	// Bytes asked of a peer and not yet arrived: about windowTime of its
	// measured rate, within [minWindow, maxWindow]. A short queue at a slow
	// peer keeps rarest-first picks fresh; a long one at a fast peer keeps
	// its link busy. Until its rate is first measured, a peer's window
	// starts at minWindow and grows by each block that arrives (slow start).
	minWindow  = 1 << 20
	maxWindow  = 32 << 20
	windowTime = 1.0 // seconds
	// blockGuess is the size assumed for a block whose link declares more
	// (a dag-pb node's Tsize counts its whole subtree).
	blockGuess = 1 << 20
	// watchEvery is how often a level looks for new pollen peers, updates
	// rates, and hands blocks no pollen peer holds to Bitswap.
	watchEvery = 250 * time.Millisecond
	// orphanAfter is how long a block may have no pollen holder before
	// Bitswap is asked for it (other IPFS nodes, the DHT), unless every
	// pollen peer already said what it holds.
	orphanAfter = time.Second
)

// pollenPeers are the connected peers that speak ProtoBlocks.
func (e *Exchange) pollenPeers() []peer.ID {
	var out []peer.ID
	for _, p := range e.h.Network().Peers() {
		if ok, _ := e.h.Peerstore().SupportsProtocols(p, ProtoBlocks); len(ok) > 0 {
			out = append(out, p)
		}
	}
	return out
}

// level fetches one level of a DAG: every pollen peer tells which of its
// blocks it holds, and each is asked for the blocks it holds that fewest
// peers hold. Ties go in DAG order while every known peer holds the whole
// level (the export, which writes in order, keeps up), and in an order of
// this getter's own once some peer holds only part of it: getters
// fetching together then ask the seeder for different blocks and trade
// them.
type level struct {
	f      *fetch
	items  []link
	storeq chan stored
	since  time.Time // when the level began

	mu      sync.Mutex    // guards the fields below
	changed chan struct{} // closed and replaced on every change
	order   []int         // tie order: nil (DAG order) until a peer holding part of the level shows up
	state   []itemState
	peers   map[peer.ID]*lpeer
	left    int // items not yet stored
	next    []link
	err     error
}

type itemState struct {
	holders int  // peers known to hold it
	asked   int  // requests in flight
	got     bool // arrived, being stored
	done    bool // stored
	bitswap bool // handed to Bitswap
	orphan  time.Time
}

type lpeer struct {
	id       peer.ID
	has      []bool
	holds    int  // how many of the level it holds
	answered bool // its first list of what it holds arrived
	asking   []bool
	lanes    []*lane
	window   int64   // bytes in flight allowed, over all lanes
	received int64   // bytes, for the rate
	rate     float64 // bytes a second; 0 until first measured (the window is in slow start)
	gone     bool
}

// windowFor is the window for a peer sending rate bytes a second.
func windowFor(rate float64) int64 {
	return min(maxWindow, max(minWindow, int64(rate*windowTime)))
}

// lane is one ProtoBlocks stream to a peer. A peer is asked over
// several, so that its disk reads and our hashing of its blocks run on
// more than one core.
type lane struct {
	queue    []int // indexes asked for, in the order the answers come
	inflight int64 // bytes asked for, not yet arrived
}

// lanesPerPeer is how many ProtoBlocks streams a getter opens to a peer.
const lanesPerPeer = 2

// inflight is the bytes asked of p, not yet arrived. Called with mu held.
func (p *lpeer) inflight() int64 {
	var n int64
	for _, ln := range p.lanes {
		n += ln.inflight
	}
	return n
}

// idle reports whether nothing is asked of p. Called with mu held.
func (p *lpeer) idle() bool {
	for _, ln := range p.lanes {
		if len(ln.queue) > 0 {
			return false
		}
	}
	return true
}

// fetchLevel brings ls into the store and returns their links.
func (f *fetch) fetchLevel(ctx context.Context, ls []link) ([]link, error) {
	peers := f.e.pollenPeers()
	if len(peers) == 0 || len(ls) == 0 {
		return f.fetchAll(ctx, ls)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lv := &level{
		f: f, items: ls,
		changed: make(chan struct{}), state: make([]itemState, len(ls)),
		peers: map[peer.ID]*lpeer{}, left: len(ls), since: time.Now(),
		storeq: make(chan stored, 8),
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		lv.storer(ctx)
	}()
	for _, p := range peers {
		lv.addPeer(ctx, &wg, p)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		lv.watch(ctx, &wg)
	}()
	lv.mu.Lock()
	for lv.left > 0 && lv.err == nil && ctx.Err() == nil {
		wake := lv.changed
		lv.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
		}
		lv.mu.Lock()
	}
	err := lv.err
	if err == nil {
		err = ctx.Err()
	}
	lv.mu.Unlock()
	cancel()
	wg.Wait()
	return lv.next, err
}

// signal wakes everyone waiting on a change; called with mu held.
func (lv *level) signal() {
	close(lv.changed)
	lv.changed = make(chan struct{})
}

// fail ends the level with err unless it already failed; called with mu
// held.
func (lv *level) fail(err error) {
	if lv.err == nil {
		lv.err = err
	}
	lv.signal()
}

func (lv *level) addPeer(ctx context.Context, wg *sync.WaitGroup, id peer.ID) {
	p := &lpeer{id: id, has: make([]bool, len(lv.items)), asking: make([]bool, len(lv.items)), window: minWindow}
	if r, ok := lv.f.rates.Load(id); ok { // measured on an earlier level
		p.rate = r.(float64)
		p.window = windowFor(p.rate)
	}
	lv.mu.Lock()
	lv.peers[id] = p
	lv.mu.Unlock()
	wg.Add(1)
	go func() {
		defer wg.Done()
		err := lv.runPeer(ctx, p)
		lv.drop(p)
		if err != nil && ctx.Err() == nil {
			lv.f.e.log.Debug("pollen peer", "peer", id, "err", err)
		}
	}()
}

// drop forgets a peer that left: what it was asked for is asked of others.
func (lv *level) drop(p *lpeer) {
	lv.mu.Lock()
	defer lv.mu.Unlock()
	p.gone = true
	for i := range lv.items {
		if p.has[i] {
			p.has[i] = false
			p.holds--
			lv.state[i].holders--
		}
		if p.asking[i] {
			p.asking[i] = false
			lv.state[i].asked--
		}
	}
	for _, ln := range p.lanes {
		ln.queue, ln.inflight = nil, 0
	}
	lv.signal()
}

// runPeer subscribes to what p holds, asks it for blocks and reads them
// until the level is done or p fails.
func (lv *level) runPeer(ctx context.Context, p *lpeer) error {
	h := lv.f.e.h
	hs, err := h.NewStream(ctx, p.id, ProtoHave)
	if err != nil {
		return err
	}
	defer hs.Reset()
	var streams []network.Stream
	defer func() {
		for _, s := range streams {
			s.Reset()
		}
	}()
	lanes := make([]*lane, lanesPerPeer)
	for k := range lanes {
		s, err := h.NewStream(ctx, p.id, ProtoBlocks)
		if err != nil {
			return err
		}
		streams = append(streams, s)
		lanes[k] = &lane{}
	}
	lv.mu.Lock()
	p.lanes = lanes
	lv.mu.Unlock()
	cs := make([]cid.Cid, len(lv.items))
	for i, l := range lv.items {
		cs[i] = l.c
	}
	if err := writeCIDs(bufio.NewWriter(hs), cs); err != nil {
		return err
	}
	// The peer's part ends at its first error, or with the level.
	pctx, pcancel := context.WithCancel(ctx)
	defer pcancel()
	errs := make(chan error, 1+2*len(lanes))
	var g sync.WaitGroup
	run := func(fn func() error) {
		g.Add(1)
		go func() {
			defer g.Done()
			if err := fn(); err != nil {
				errs <- err
			}
		}()
	}
	run(func() error { return lv.readHaves(p, bufio.NewReader(hs)) })
	for k, ln := range lanes {
		s := streams[k]
		run(func() error { return lv.readBlocks(ctx, p, ln, s) }) // the level's ctx: a batch read before the peer failed is stored, not dropped
		run(func() error { return lv.ask(pctx, p, ln, bufio.NewWriterSize(s, 16<<10)) })
	}
	select {
	case err = <-errs:
	case <-ctx.Done():
		err = ctx.Err()
	}
	pcancel()
	hs.Reset()
	for _, s := range streams {
		s.Reset()
	}
	g.Wait()
	return err
}

// readHaves records what p says it holds. The server closes the stream
// once it holds everything listed.
func (lv *level) readHaves(p *lpeer, r *bufio.Reader) error {
	for {
		idx, err := readIndexes(r, len(lv.items))
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		lv.mu.Lock()
		p.answered = true
		for _, i := range idx {
			if !p.has[i] && !p.gone {
				p.has[i] = true
				p.holds++
				lv.state[i].holders++
			}
		}
		if p.holds < len(lv.items) && lv.order == nil {
			lv.order = rand.Perm(len(lv.items))
		}
		lv.signal()
		lv.mu.Unlock()
	}
}

// ask sends p requests over ln while p's window has room and the lane
// holds no more than its share of it.
func (lv *level) ask(ctx context.Context, p *lpeer, ln *lane, w *bufio.Writer) error {
	for {
		var want []cid.Cid
		lv.mu.Lock()
		for lv.err == nil && !p.gone && p.inflight() < p.window && ln.inflight <= p.window/int64(len(p.lanes)) {
			i := lv.pick(p)
			if i < 0 {
				break
			}
			p.asking[i] = true
			lv.state[i].asked++
			ln.queue = append(ln.queue, i)
			ln.inflight += lv.guess(i)
			want = append(want, lv.items[i].c)
		}
		wake := lv.changed
		lv.mu.Unlock()
		if len(want) > 0 {
			if err := writeCIDs(w, want); err != nil {
				return err
			}
			continue
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (lv *level) guess(i int) int64 { return int64(min(lv.items[i].size, blockGuess)) }

// pick chooses what to ask p for next: of the blocks p holds that nobody
// is asked for, one that fewest peers hold; once every block is asked
// for, one that p could bring too (the endgame: first answer wins), only
// when p has nothing else to do. -1 for nothing. Called with mu held.
func (lv *level) pick(p *lpeer) int {
	best, bestHolders := -1, math.MaxInt
	var dup, dupAsked = -1, math.MaxInt
	for k := range lv.items {
		i := k
		if lv.order != nil {
			i = lv.order[k]
		}
		st := &lv.state[i]
		if st.got || st.bitswap || !p.has[i] || p.asking[i] {
			continue
		}
		if st.asked == 0 {
			if st.holders < bestHolders {
				best, bestHolders = i, st.holders
			}
		} else if st.asked < dupAsked {
			dup, dupAsked = i, st.asked
		}
	}
	if best < 0 && p.idle() && dupAsked < 2 {
		return dup
	}
	return best
}

// readBlocks reads p's answers in the order they were asked for, checks
// each against its CID and stores them in batches.
func (lv *level) readBlocks(ctx context.Context, p *lpeer, ln *lane, s network.Stream) error {
	r := bufio.NewReaderSize(s, 64<<10)
	var batch []blocks.Block
	var idx []int
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		select {
		case lv.storeq <- stored{batch, idx}:
		case <-ctx.Done():
			return ctx.Err()
		}
		batch, idx, size = nil, nil, 0
		return nil
	}
	for {
		data, ok, err := readBlock(r)
		if err != nil {
			flush()
			return err
		}
		// Only this goroutine takes from the queue: look now, take once
		// the answer is checked, so the block is never free to ask again.
		lv.mu.Lock()
		if len(ln.queue) == 0 {
			lv.mu.Unlock()
			flush()
			return fmt.Errorf("%w: an answer nobody asked for", errProtocol)
		}
		i := ln.queue[0]
		lv.mu.Unlock()
		c := lv.items[i].c
		if ok {
			if got, err := c.Prefix().Sum(data); err != nil || !got.Equals(c) {
				flush()
				lv.f.e.liar(p.id)
				return fmt.Errorf("peer %s sent wrong bytes for %s", p.id, c)
			}
			lv.f.touch()
			lv.f.e.count(p.id, int64(len(data)), 1, false)
		}
		lv.mu.Lock()
		ln.queue = ln.queue[1:]
		ln.inflight -= lv.guess(i)
		p.asking[i] = false
		st := &lv.state[i]
		st.asked--
		first := false
		if ok {
			p.received += int64(len(data))
			if p.rate == 0 {
				// Slow start, as TCP's: the window grows by what
				// arrives, doubling each round trip, until the first
				// measurement sizes it.
				p.window = min(maxWindow, p.window+int64(len(data)))
			}
			first = !st.got // else another peer's answer came first
			st.got = true
		} else if p.has[i] { // it no longer has it (GC)
			p.has[i] = false
			p.holds--
			st.holders--
		}
		lv.signal()
		lv.mu.Unlock()
		if first {
			b, _ := blocks.NewBlockWithCid(data, c)
			batch, idx = append(batch, b), append(idx, i)
			size += len(data)
		}
		if size >= storeBytes || len(batch) >= storeBlocks || (r.Buffered() == 0 && len(batch) > 0) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

// stored is a batch of checked blocks on its way to the store.
type stored struct {
	blocks []blocks.Block
	idx    []int
}

// storer writes what the peers' readers checked, so that reading, hashing
// and writing go on side by side.
func (lv *level) storer(ctx context.Context) {
	for {
		var job stored
		select {
		case job = <-lv.storeq:
		case <-ctx.Done():
			return
		}
		if err := lv.f.store(ctx, job.blocks); err != nil {
			lv.mu.Lock()
			lv.fail(err)
			lv.mu.Unlock()
			return
		}
		lv.mu.Lock()
		for k, i := range job.idx {
			st := &lv.state[i]
			if st.done {
				continue
			}
			st.done = true
			lv.left--
			links, err := linksOf(job.blocks[k])
			if err != nil && lv.err == nil {
				lv.err = err
			}
			lv.next = append(lv.next, links...)
		}
		lv.signal()
		lv.mu.Unlock()
		for _, b := range job.blocks {
			lv.f.got(len(b.RawData()))
		}
	}
}

// watch adds pollen peers that connect while the level runs, sizes each
// peer's window to its rate, and hands Bitswap the blocks no pollen peer
// holds.
func (lv *level) watch(ctx context.Context, wg *sync.WaitGroup) {
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, id := range lv.f.e.pollenPeers() {
			lv.mu.Lock()
			_, known := lv.peers[id]
			lv.mu.Unlock()
			if !known {
				lv.addPeer(ctx, wg, id)
			}
		}
		var orphans []link
		var orphanIdx []int
		now := time.Now()
		lv.mu.Lock()
		answered := true
		for _, p := range lv.peers {
			answered = answered && (p.answered || p.gone)
			if p.gone {
				delete(lv.peers, p.id)
				continue
			}
			r := float64(p.received) / watchEvery.Seconds()
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
			lv.f.rates.Store(p.id, p.rate)
		}
		for i := range lv.state {
			st := &lv.state[i]
			if st.got || st.bitswap || st.holders > 0 || st.asked > 0 {
				st.orphan = time.Time{}
				continue
			}
			if st.orphan.IsZero() {
				st.orphan = now
			}
			if answered || (now.Sub(st.orphan) >= orphanAfter && now.Sub(lv.since) >= orphanAfter) {
				st.bitswap = true
				orphans = append(orphans, lv.items[i])
				orphanIdx = append(orphanIdx, i)
			}
		}
		lv.signal()
		lv.mu.Unlock()
		if len(orphans) > 0 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lv.bitswap(ctx, orphans, orphanIdx)
			}()
		}
	}
}

// bitswap fetches blocks no pollen peer holds from whoever Bitswap finds.
func (lv *level) bitswap(ctx context.Context, ls []link, idx []int) {
	next, err := lv.f.fetchAll(ctx, ls)
	lv.mu.Lock()
	defer lv.mu.Unlock()
	lv.next = append(lv.next, next...)
	if err != nil {
		if !errors.Is(err, context.Canceled) { // the level ended first
			lv.fail(err)
		}
		return
	}
	for _, i := range idx {
		if !lv.state[i].done {
			lv.state[i].done = true
			lv.left--
		}
	}
	lv.signal()
}
