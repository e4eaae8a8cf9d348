package exchange

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// A level of a DAG is fetched from pollen peers over ProtoHave and
// ProtoBlocks (see wire.go), as the scheduler picks, a few lanes
// (streams) per peer; what no pollen peer holds goes to Bitswap.
const (
	// blockGuess is the size assumed for a block whose link declares more
	// (a dag-pb node's Tsize counts its whole subtree).
	blockGuess = 1 << 20
	// tickEvery is how often a level measures rates and hands blocks no
	// pollen peer holds to Bitswap.
	tickEvery = 250 * time.Millisecond
	// lanesPerPeer is how many ProtoBlocks streams a getter opens to a
	// peer, so that its disk reads and our hashing of its blocks run on
	// more than one core.
	lanesPerPeer = 2
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

// level fetches one level of a DAG.
type level struct {
	d      *download
	items  []link
	storeq chan stored

	mu      sync.Mutex    // guards the fields below
	changed chan struct{} // closed and replaced on every change
	sched   *scheduler
	err     error
	// handed maps the multihashes of the blocks handed to Bitswap, not yet
	// stored, to their index.
	handed map[string]int
	hand   *handOver
	lanes  map[peer.ID][]*lane // each peer's lanes, for cancels
	// traders are the peers that said they hold blocks of the level,
	// counted in the exchange's trades until the level ends.
	traders map[peer.ID]bool
	// again holds the peers identified on a new connection while their
	// lanes ran: those may be winding down on a connection that ended (a
	// relay's limit), and open again once they have.
	again map[peer.ID]bool
}

// fetchLevel brings ls into the store.
func (d *download) fetchLevel(ctx context.Context, ls []link) error {
	// Subscribed before the peers are listed, so none is missed.
	sub, err := d.e.h.EventBus().Subscribe([]any{new(event.EvtPeerIdentificationCompleted), new(event.EvtPeerProtocolsUpdated)})
	if err != nil {
		return err
	}
	peers := d.e.pollenPeers()
	sources := d.sourcesAwaited(time.Now())
	if len(ls) == 0 || len(peers) == 0 && len(sources) == 0 && d.o.Secret == nil {
		sub.Close() // unread, it would hold up the bus
		return d.fetchAll(ctx, ls, nil)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sizes := make([]int64, len(ls))
	for i, l := range ls {
		sizes[i] = int64(min(l.size, blockGuess))
	}
	lv := &level{
		d: d, items: ls, storeq: make(chan stored, 8),
		changed: make(chan struct{}),
		sched:   newScheduler(sizes, rand.Perm, time.Now()),
		handed:  map[string]int{},
		lanes:   map[peer.ID][]*lane{},
		traders: map[peer.ID]bool{},
		again:   map[peer.ID]bool{},
	}
	lv.sched.graceFrom(d.o.SpareSince)
	lv.sched.setSources(sources, d.began)
	lv.hand = newHandOver(lv.bitswapStored)
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
		lv.watch(ctx, &wg, sub)
	}()
	lv.mu.Lock()
	for lv.sched.left > 0 && lv.err == nil && ctx.Err() == nil {
		wake := lv.changed
		lv.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
		}
		lv.mu.Lock()
	}
	err = lv.err
	if err == nil {
		err = ctx.Err()
	}
	lv.mu.Unlock()
	cancel()
	wg.Wait()
	sub.Close()
	for id := range lv.traders {
		lv.d.e.trades.done(id)
	}
	return err
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

// addPeer starts fetching from a pollen peer, unless it is counted
// already; when the peer fails, what it was asked for is asked of others.
func (lv *level) addPeer(ctx context.Context, wg *sync.WaitGroup, id peer.ID) {
	if lv.d.o.Secret != nil && !lv.d.admitted(id) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if lv.d.admit(ctx, id) == nil {
				lv.addPeer(ctx, wg, id)
			}
		}()
		return
	}
	lv.mu.Lock()
	if lv.sched.known(id) {
		lv.again[id] = true
		lv.mu.Unlock()
		return
	}
	var rate float64
	if r, ok := lv.d.rates.Load(id); ok { // measured on an earlier level
		rate = r.(float64)
	}
	lv.sched.addPeer(id, rate)
	if slices.Contains(lv.d.o.Spare, id) {
		lv.sched.setSpare(id)
	}
	lv.mu.Unlock()
	wg.Add(1)
	go func() {
		defer wg.Done()
		err := lv.runPeer(ctx, id)
		lv.mu.Lock()
		lv.sched.dropPeer(id)
		again := lv.again[id]
		delete(lv.again, id)
		lv.signal()
		lv.mu.Unlock()
		// Its lanes open again on the direct connection, or on the one
		// that came up while they wound down.
		c := lv.d.e.h.Network().Connectedness(id)
		again = again && (c == network.Connected || c == network.Limited)
		if (again || errors.Is(err, errDirect)) && ctx.Err() == nil {
			lv.addPeer(ctx, wg, id)
			return
		}
		if err != nil && ctx.Err() == nil {
			lv.d.e.log.Debug("pollen peer", "peer", id, "err", err)
		}
	}()
}

// runPeer subscribes to what the peer holds, asks it for blocks and reads
// them until the level is done or the peer fails.
func (lv *level) runPeer(ctx context.Context, id peer.ID) error {
	h := lv.d.e.h
	// A peer behind a NAT may be reached only through a relay whose
	// connections are "limited" (by time or bytes): pollen's protocols
	// use them, as far as the relay allows, until a direct connection
	// (hole punched) takes over. Bitswap does not.
	ctx = network.WithAllowLimitedConn(ctx, "pollen transfers go through relays that allow them")
	hs, err := h.NewStream(ctx, id, ProtoHaveFetching, ProtoHave)
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
		s, err := h.NewStream(ctx, id, ProtoBlocksChoke, ProtoBlocks)
		if err != nil {
			return err
		}
		streams = append(streams, s)
		lanes[k] = &lane{choke: s.Protocol() == ProtoBlocksChoke, cancelled: map[int]bool{}}
	}
	lv.mu.Lock()
	lv.lanes[id] = lanes
	lv.mu.Unlock()
	defer func() {
		lv.mu.Lock()
		delete(lv.lanes, id)
		lv.mu.Unlock()
	}()
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
	errs := make(chan error, 2+2*len(lanes)) // haves, awaitDirect, and each lane's two
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
	tagged := hs.Protocol() == ProtoHaveFetching
	run(func() error { return lv.readHaves(id, bufio.NewReader(hs), tagged) })
	if relayed(hs.Conn()) {
		run(func() error { return awaitDirect(pctx, h.Network(), id) })
	}
	for k, ln := range lanes {
		s := streams[k]
		// The level's ctx for reading: a batch read before the peer failed
		// is stored, not dropped.
		run(func() error { return lv.readBlocks(ctx, id, ln, s) })
		run(func() error { return lv.ask(pctx, id, ln, bufio.NewWriterSize(s, 16<<10)) })
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

// errDirect ends a peer's lanes over a relay once a direct connection to
// it is up, so that they open again on that one.
var errDirect = errors.New("a direct connection is up")

// relayed reports whether c goes through a relay.
func relayed(c network.Conn) bool {
	for _, p := range c.RemoteMultiaddr() {
		if p.Code() == ma.P_CIRCUIT {
			return true
		}
	}
	return false
}

// directEvery is how often lanes over a relay look for a direct
// connection to their peer (hole punching makes one, a second or two in).
const directEvery = 250 * time.Millisecond

// awaitDirect returns errDirect once n has a direct connection to id, or
// nil when ctx ends.
func awaitDirect(ctx context.Context, n network.Network, id peer.ID) error {
	t := time.NewTicker(directEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for _, c := range n.ConnsToPeer(id) {
			if !relayed(c) {
				return errDirect
			}
		}
	}
}

// readHaves records what the peer says it holds, and, tagged
// (ProtoHaveFetching), what it is fetching. The server closes the stream
// once it holds everything listed.
func (lv *level) readHaves(id peer.ID, r *bufio.Reader, tagged bool) error {
	for {
		kind, idx, err := kindHolds, []int(nil), error(nil)
		if tagged {
			kind, idx, err = readTagged(r, len(lv.items))
		} else {
			idx, err = readIndexes(r, len(lv.items))
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		lv.mu.Lock()
		if kind == kindFetching {
			lv.sched.fetching(id, idx)
		} else {
			lv.sched.haves(id, idx)
			if len(idx) > 0 && !lv.traders[id] {
				lv.traders[id] = true
				lv.d.e.trades.add(id)
			}
		}
		lv.signal()
		lv.mu.Unlock()
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
		if err := lv.d.store(ctx, job.blocks); err != nil {
			lv.mu.Lock()
			lv.fail(err)
			lv.mu.Unlock()
			return
		}
		lv.mu.Lock()
		for _, i := range job.idx {
			lv.sched.stored(i)
		}
		lv.signal()
		lv.mu.Unlock()
		for _, b := range job.blocks {
			lv.d.got(b.Cid(), len(b.RawData()))
		}
	}
}

// watch adds pollen peers as they connect (the host's event bus says when
// a peer's protocols are known), measures rates every tick, and hands
// Bitswap the blocks no pollen peer holds.
func (lv *level) watch(ctx context.Context, wg *sync.WaitGroup, sub event.Subscription) {
	t := time.NewTicker(tickEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-sub.Out():
			var id peer.ID
			var protos []string
			switch ev := ev.(type) {
			case event.EvtPeerIdentificationCompleted:
				id = ev.Peer
				for _, p := range ev.Protocols {
					protos = append(protos, string(p))
				}
			case event.EvtPeerProtocolsUpdated:
				id = ev.Peer
				for _, p := range ev.Added {
					protos = append(protos, string(p))
				}
			}
			if slices.Contains(protos, string(ProtoBlocks)) {
				lv.addPeer(ctx, wg, id)
			}
			continue
		case <-t.C:
		}
		lv.mu.Lock()
		for id, lns := range lv.lanes {
			for _, ln := range lns {
				lv.sched.arrived(id, ln.arrived.Swap(0))
			}
		}
		for id, r := range lv.sched.tick(tickEvery) {
			lv.d.rates.Store(id, r)
		}
		var orphans []int
		if lv.d.o.Secret == nil { // a private share's blocks wait for its holders
			lv.checkSources()
			orphans = lv.sched.orphans(time.Now())
		}
		ls := make([]link, len(orphans))
		for k, i := range orphans {
			ls[k] = lv.items[i]
			lv.handed[string(ls[k].c.Hash())] = i
			lv.hand.give(ls[k].c)
		}
		lv.signal()
		lv.mu.Unlock()
		if len(orphans) > 0 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lv.bitswap(ctx, ls)
			}()
		}
	}
}

// bitswap fetches blocks no pollen peer holds from whoever Bitswap finds.
func (lv *level) bitswap(ctx context.Context, ls []link) {
	err := lv.d.fetchAll(ctx, ls, lv.hand)
	if err != nil && !errors.Is(err, context.Canceled) { // Canceled: the level ended first
		lv.mu.Lock()
		lv.fail(err)
		lv.mu.Unlock()
	}
}

// bitswapStored counts the blocks Bitswap brought, once stored.
func (lv *level) bitswapStored(bl []blocks.Block) {
	lv.mu.Lock()
	defer lv.mu.Unlock()
	for _, b := range bl {
		h := string(b.Cid().Hash())
		if i, ok := lv.handed[h]; ok {
			delete(lv.handed, h)
			lv.sched.stored(i)
		}
	}
	lv.signal()
}
