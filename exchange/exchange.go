package exchange

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/boxo/bitswap"
	bsmsg "github.com/ipfs/boxo/bitswap/message"
	bsnet "github.com/ipfs/boxo/bitswap/network/bsnet"
	bstore "github.com/ipfs/boxo/blockstore"
	dag "github.com/ipfs/boxo/ipld/merkledag"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
)

// Bitswap tuning for throughput (the defaults suit a node serving many
// small requests, not bulk transfer between a few peers).
const (
	maxOutstandingBytesPerPeer = 8 << 20 // default 1 MiB: one leaf in flight per peer; more only fills buffers a killed getter throws away
	taskWorkers                = 16      // default 8
	// Default 16 KiB. A message may pass the target by one block, and
	// libp2p Bitswap refuses messages over 4 MiB, so stay at 1 MiB: up to
	// two leaves per message.
	targetMessageSize   = 1 << 20
	providerSearchDelay = time.Second
	// Wants in flight: chunks of at most chunkWants CIDs or chunkBytes of
	// declared size, fetchParallel chunks at a time. A Bitswap server
	// (Kubo's and ours) queues at most 1024 wants per peer and drops the
	// rest, so stay well under; and asking for a few MiB at a time (a dozen
	// leaves) rather than everything lets getters in a swarm ask each other
	// as blocks spread, instead of all queueing at the first seeder.
	chunkWants    = 64
	chunkBytes    = 4 << 20
	fetchParallel = 4
	// Received blocks are stored in batches of this many bytes or blocks:
	// small enough that a killed fetch loses little and the export running
	// alongside never waits long.
	storeBytes  = 256 << 10
	storeBlocks = 64
	// reaskAfter is how long a chunk may see nothing arrive before its
	// wants are sent again.
	reaskAfter = 5 * time.Second
	// maxQueuedWants lets pollen peers queue more wants from us than the
	// default 1024 (a server drops the ones past it without a word).
	maxQueuedWants = 4096
)

// Config configures New. The zero value works: no content routing.
type Config struct {
	// Misbehaving is told of a peer that sends blocks nobody asked for
	// (wrong bytes for a wanted CID arrive as such); the exchange has
	// already closed its connections. Nil to only close them.
	Misbehaving func(peer.ID)
	// Routing finds providers when connected peers lack a block, and
	// announces roots; nil for neither.
	Routing routing.ContentRouting
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// Exchange is Bitswap (client and server) on a host, over a store.
type Exchange struct {
	bs      *bitswap.Bitswap
	store   bstore.Blockstore
	routing routing.ContentRouting
	log     *slog.Logger

	h           host.Host
	misbehaving func(peer.ID)
	notes       storedLog

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // stream handlers and cut-offs running; Close waits

	mu     sync.Mutex
	closed bool
	stats  map[peer.ID]*PeerStats
	judged map[peer.ID]*judgement
	asked  askedSet
}

// judgement counts the blocks a peer sent that nobody asked for.
type judgement struct {
	unasked int
	banned  bool
}

const (
	// A peer is cut off at the second block nobody asked for: Bitswap
	// servers only send what was wanted, and a block asked for in the
	// last askedFor counts as asked, so late duplicates are not lies.
	maxUnasked = 2
	askedFor   = 10 * time.Minute
)

// PeerStats counts the block bytes exchanged with one peer.
type PeerStats struct {
	Received, Sent             int64 // block bytes
	BlocksReceived, BlocksSent int
}

// Progress is a snapshot of a fetch.
type Progress struct {
	Done, Total int64 // block bytes present of the DAG's size
	Blocks      int   // blocks present so far
	// Peers holds the block bytes each peer sent during this fetch.
	Peers map[peer.ID]int64
}

// Received is the block bytes that came from peers during this fetch.
func (p Progress) Received() int64 {
	var n int64
	for _, b := range p.Peers {
		n += b
	}
	return n
}

// New starts Bitswap on h, serving every block in store.
func New(h host.Host, store bstore.Blockstore, cfg Config) *Exchange {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e := &Exchange{
		store: store, routing: cfg.Routing, log: cfg.Logger, h: h, misbehaving: cfg.Misbehaving,
		stats: map[peer.ID]*PeerStats{}, judged: map[peer.ID]*judgement{},
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	var finder routing.ContentDiscovery
	if cfg.Routing != nil {
		finder = cfg.Routing
	}
	e.bs = bitswap.New(e.ctx, bsnet.NewFromIpfsHost(h), finder, serverStore{store},
		bitswap.MaxOutstandingBytesPerPeer(maxOutstandingBytesPerPeer),
		bitswap.MaxQueuedWantlistEntriesPerPeer(maxQueuedWants),
		bitswap.TaskWorkerCount(taskWorkers),
		bitswap.EngineTaskWorkerCount(taskWorkers),
		bitswap.WithTargetMessageSize(targetMessageSize),
		bitswap.ProviderSearchDelay(providerSearchDelay),
		bitswap.WithTracer((*tracer)(e)),
	)
	h.SetStreamHandler(ProtoBlocks, e.handle(e.serveBlocks))
	h.SetStreamHandler(ProtoHave, e.handle(e.serveHave))
	return e
}

// Close stops Bitswap and the pollen protocols and waits for every stream
// they serve, which it resets.
func (e *Exchange) Close() error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.h.RemoveStreamHandler(ProtoBlocks)
	e.h.RemoveStreamHandler(ProtoHave)
	e.cancel()
	e.wg.Wait()
	return e.bs.Close()
}

// enter counts a goroutine the exchange owns, unless it is closed.
func (e *Exchange) enter() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	e.wg.Add(1)
	return true
}

// handle makes a stream handler one the exchange owns: Close resets its
// stream and waits for it.
func (e *Exchange) handle(serve func(network.Stream)) network.StreamHandler {
	return func(s network.Stream) {
		if !e.enter() {
			s.Reset()
			return
		}
		defer e.wg.Done()
		stop := context.AfterFunc(e.ctx, func() { s.Reset() })
		defer stop()
		serve(s)
	}
}

// Stats returns the bytes exchanged with each peer since New.
func (e *Exchange) Stats() map[peer.ID]PeerStats {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[peer.ID]PeerStats, len(e.stats))
	for p, s := range e.stats {
		out[p] = *s
	}
	return out
}

// announce tells ProtoHave subscribers and Bitswap's server about blocks
// now in the store. Only the server: a fetch's client delivered these
// blocks itself, and telling it again republishes them to the session's
// channel, which blocks while the fetch's storer, its reader, is here.
func (e *Exchange) announce(ctx context.Context, bl []blocks.Block) error {
	e.notes.add(bl)
	return e.bs.Server.NotifyNewBlocks(ctx, bl...)
}

// storedLog lists the multihashes fetches brought, so that ProtoHave
// servers can tell their peers what arrived.
type storedLog struct {
	mu     sync.Mutex
	base   uint64   // sequence number of hashes[0]
	hashes []string // the most recent, at most 2*keepStored
	wake   chan struct{}
}

const keepStored = 1 << 16

// position returns the sequence number of the next hash stored and a
// channel closed when one is.
func (l *storedLog) position() (uint64, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.base + uint64(len(l.hashes)), l.wakeLocked()
}

// wakeLocked is the channel closed at the next add. Called with mu held.
func (l *storedLog) wakeLocked() chan struct{} {
	if l.wake == nil {
		l.wake = make(chan struct{})
	}
	return l.wake
}

func (l *storedLog) add(bl []blocks.Block) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, b := range bl {
		l.hashes = append(l.hashes, string(b.Cid().Hash()))
	}
	if len(l.hashes) > 2*keepStored {
		drop := len(l.hashes) - keepStored
		l.hashes = append([]string(nil), l.hashes[drop:]...)
		l.base += uint64(drop)
	}
	close(l.wakeLocked())
	l.wake = make(chan struct{})
}

// since returns the hashes stored from seq on, the next position and its
// channel; complete is false when some of them were already forgotten.
func (l *storedLog) since(seq uint64) (hs []string, next uint64, wake <-chan struct{}, complete bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	next = l.base + uint64(len(l.hashes))
	if seq < l.base {
		return nil, next, l.wakeLocked(), false
	}
	return append([]string(nil), l.hashes[seq-l.base:]...), next, l.wakeLocked(), true
}

// BitswapStat is Bitswap's own view: blocks and bytes received (and how
// many of them duplicates) and sent, and the wants outstanding.
type BitswapStat struct {
	BlocksReceived, DataReceived, DupBlocksReceived, DupDataReceived uint64
	BlocksSent, DataSent                                             uint64
	Wants                                                            int
}

// Bitswap returns Bitswap's counters.
func (e *Exchange) Bitswap() BitswapStat {
	st, err := e.bs.Stat()
	if err != nil {
		return BitswapStat{}
	}
	return BitswapStat{
		BlocksReceived: st.BlocksReceived, DataReceived: st.DataReceived,
		DupBlocksReceived: st.DupBlksReceived, DupDataReceived: st.DupDataReceived,
		BlocksSent: st.BlocksSent, DataSent: st.DataSent, Wants: len(st.Wantlist),
	}
}

// Provide announces on the content routing that this node has root.
func (e *Exchange) Provide(ctx context.Context, root cid.Cid) error {
	if e.routing == nil {
		return nil
	}
	if err := e.routing.Provide(ctx, root, true); err != nil {
		return fmt.Errorf("provide %s: %w", root, err)
	}
	return nil
}

// ErrStalled is wrapped when no block arrives for the stall timeout.
var ErrStalled = errors.New("nothing arrived")

// FetchOptions tune Fetch.
type FetchOptions struct {
	// Stall fails the fetch when no wanted block arrives for this long;
	// 0 waits as long as ctx allows.
	Stall time.Duration
	// Report receives progress after every block, from one goroutine at a
	// time; nil for none.
	Report func(Progress)
	// Sink takes the blocks of the DAG in place of the store; nil to
	// store them.
	Sink Sink
}

// A Sink takes the blocks of the DAG a fetch walks, parents before
// children. It may be called from several goroutines at once.
type Sink interface {
	// Put takes blocks that arrived, checked against their CIDs; they
	// must be in the store (or where it can find them) when it returns,
	// for the fetch tells its peers so.
	Put(ctx context.Context, bl []blocks.Block) error
	// Local is given each dag-pb node of the DAG found in the store.
	Local(ctx context.Context, b blocks.Block) error
}

// Fetch brings every block of the DAG under root into the store.
func (e *Exchange) Fetch(ctx context.Context, root cid.Cid, o FetchOptions) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := &fetch{e: e, o: o, sess: e.bs.NewSession(ctx), start: e.Stats(), last: time.Now()}
	var watching sync.WaitGroup
	if o.Stall > 0 {
		watching.Add(1)
		go func() {
			defer watching.Done()
			f.watchdog(ctx, cancel)
		}()
	}
	err := f.run(ctx, root)
	cancel()
	watching.Wait()
	if err == nil && o.Report != nil {
		// Done counts each distinct block once; a DAG that holds one block
		// twice declares it twice in its sizes. Finished is finished.
		f.mu.Lock()
		f.p.Done = f.p.Total
		p := f.p
		f.mu.Unlock()
		p.Peers = f.peerBytes()
		o.Report(p)
	}
	if err != nil && f.stalled.Load() {
		f.mu.Lock()
		have := "none of it here"
		if f.p.Total > 0 {
			have = fmt.Sprintf("%d of %d bytes here", f.p.Done, f.p.Total)
		}
		f.mu.Unlock()
		return fmt.Errorf("%w for %s (%s)", ErrStalled, o.Stall, have)
	}
	if err != nil {
		return fmt.Errorf("fetch %s: %w", root, err)
	}
	return nil
}

// blockGetter is the part of a Bitswap session a fetch uses.
type blockGetter interface {
	GetBlocks(context.Context, []cid.Cid) (<-chan blocks.Block, error)
}

type fetch struct {
	e     *Exchange
	o     FetchOptions
	sess  blockGetter
	start map[peer.ID]PeerStats
	rates sync.Map // peer.ID → float64: bytes a second, measured by a level

	mu      sync.Mutex
	p       Progress
	last    time.Time // when the last block arrived
	stalled atomic.Bool

	reportMu sync.Mutex
}

func (f *fetch) watchdog(ctx context.Context, cancel context.CancelFunc) {
	t := time.NewTicker(f.o.Stall / 10)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f.mu.Lock()
			idle := time.Since(f.last)
			f.mu.Unlock()
			if idle > f.o.Stall {
				f.stalled.Store(true)
				cancel()
				return
			}
		}
	}
}

// run walks the DAG a level at a time: what is stored is read for its
// links, what is missing is asked for in one go.
func (f *fetch) run(ctx context.Context, root cid.Cid) error {
	rb, err := f.e.store.Get(ctx, root)
	local := err == nil
	if local {
		if err := f.local(ctx, rb); err != nil {
			return err
		}
	} else {
		if _, err := f.fetchLevel(ctx, []link{{c: root, size: blockGuess}}); err != nil {
			return err
		}
		if rb, err = f.e.store.Get(ctx, root); err != nil {
			return err
		}
	}
	level, err := linksOf(rb)
	if err != nil {
		return err
	}
	// The root's size plus the DAG sizes its links declare (Tsize): the
	// bytes to transfer, known from the first block on.
	total := int64(len(rb.RawData()))
	for _, l := range level {
		total += int64(l.size)
	}
	f.mu.Lock()
	f.p.Total = max(total, f.p.Done, 1)
	f.mu.Unlock()
	if local {
		f.got(len(rb.RawData()))
	} else {
		f.report()
	}
	seen := map[cid.Cid]bool{root: true}
	for len(level) > 0 {
		var next, missing []link
		for _, l := range level {
			c := l.c
			if seen[c] {
				continue
			}
			seen[c] = true
			ok, err := f.e.store.Has(ctx, c)
			if err != nil {
				return err
			}
			if !ok {
				missing = append(missing, l)
				continue
			}
			links, size, err := f.stored(ctx, c)
			if err != nil {
				return err
			}
			f.got(size)
			next = append(next, links...)
		}
		got, err := f.fetchLevel(ctx, missing)
		if err != nil {
			return err
		}
		level = append(next, got...)
	}
	return nil
}

// store hands received blocks to the sink (or puts them in the store:
// Bitswap's client does not), then tells ProtoHave subscribers and
// Bitswap's server, so peers can fetch them from here at once.
func (f *fetch) store(ctx context.Context, bl []blocks.Block) error {
	if len(bl) == 0 {
		return nil
	}
	var err error
	if f.o.Sink != nil {
		err = f.o.Sink.Put(ctx, bl)
	} else {
		err = f.e.store.PutMany(ctx, bl)
	}
	if err != nil {
		return err
	}
	return f.e.announce(ctx, bl)
}

func (f *fetch) touch() {
	f.mu.Lock()
	f.last = time.Now()
	f.mu.Unlock()
}

// stored reads a stored block's links (raw leaves have none and are not
// read) and size, and shows nodes to the sink.
func (f *fetch) stored(ctx context.Context, c cid.Cid) ([]link, int, error) {
	if c.Type() != cid.DagProtobuf {
		n, err := f.e.store.GetSize(ctx, c)
		return nil, n, err
	}
	b, err := f.e.store.Get(ctx, c)
	if err != nil {
		return nil, 0, err
	}
	if err := f.local(ctx, b); err != nil {
		return nil, 0, err
	}
	links, err := linksOf(b)
	return links, len(b.RawData()), err
}

// local shows a stored node to the sink.
func (f *fetch) local(ctx context.Context, b blocks.Block) error {
	if f.o.Sink == nil || b.Cid().Type() != cid.DagProtobuf {
		return nil
	}
	return f.o.Sink.Local(ctx, b)
}

// fetchAll asks for cs in chunks, a few chunks at a time, and returns the
// links of what arrives.
func (f *fetch) fetchAll(ctx context.Context, ls []link) ([]link, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		next  []link
		first error
		wg    sync.WaitGroup
	)
	sem := make(chan struct{}, fetchParallel)
	for len(ls) > 0 && ctx.Err() == nil {
		var chunk []cid.Cid
		var bytes uint64
		for len(ls) > 0 && len(chunk) < chunkWants && (len(chunk) == 0 || bytes+ls[0].size <= chunkBytes) {
			chunk = append(chunk, ls[0].c)
			bytes += ls[0].size
			ls = ls[1:]
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			links, err := f.fetch(ctx, chunk)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = err
				cancel()
			}
			next = append(next, links...)
		}()
	}
	wg.Wait()
	if first == nil && len(ls) > 0 {
		first = ctx.Err()
	}
	return next, first
}

// fetch asks the session for cs and returns the links of what arrives.
// Wants can be lost (a busy server drops those past its queue limit), so
// when none of the rest has arrived for reaskAfter, it cancels them and
// asks again.
func (f *fetch) fetch(ctx context.Context, cs []cid.Cid) ([]link, error) {
	rest := make(map[string]cid.Cid, len(cs))
	for _, c := range cs {
		rest[string(c.Hash())] = c
	}
	var next []link
	sess := f.sess
	for len(rest) > 0 {
		want := make([]cid.Cid, 0, len(rest))
		for _, c := range rest {
			want = append(want, c)
		}
		links, err := f.fetchOnce(ctx, sess, want, rest)
		// Ask again in a fresh session: the old one may hold a peer's
		// "don't have" for these blocks and never ask it again.
		sess = f.e.bs.NewSession(ctx)
		next = append(next, links...)
		if err != nil {
			return next, err
		}
	}
	return next, nil
}

// fetchOnce asks for cs once, stores what arrives and strikes it from
// rest; it returns when all arrived or none has for reaskAfter.
func (f *fetch) fetchOnce(ctx context.Context, sess blockGetter, cs []cid.Cid, rest map[string]cid.Cid) ([]link, error) {
	f.e.ask(cs)
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := sess.GetBlocks(actx, cs)
	if err != nil {
		return nil, err
	}
	var next []link
	var batch []blocks.Block
	size := 0
	idle := time.NewTimer(reaskAfter)
	defer idle.Stop()
	// After cancel the channel still delivers what already arrived; keep
	// reading it to the end so that nothing received is lost.
	for ch != nil {
		var b blocks.Block
		var ok bool
		select {
		case b, ok = <-ch:
			if !ok {
				ch = nil
				continue
			}
		case <-idle.C:
			cancel()
			continue
		}
		if _, wanted := rest[string(b.Cid().Hash())]; !wanted {
			continue
		}
		delete(rest, string(b.Cid().Hash()))
		links, err := linksOf(b)
		if err != nil {
			return next, err
		}
		f.touch()
		idle.Reset(reaskAfter)
		batch = append(batch, b)
		size += len(b.RawData())
		if size >= storeBytes || len(batch) >= storeBlocks {
			if err := f.store(ctx, batch); err != nil {
				return next, err
			}
			batch, size = nil, 0
		}
		f.got(len(b.RawData()))
		next = append(next, links...)
	}
	if err := f.store(ctx, batch); err != nil {
		return next, err
	}
	return next, ctx.Err()
}

// got records a block now present.
func (f *fetch) got(size int) {
	f.mu.Lock()
	f.p.Done += int64(size)
	f.p.Blocks++
	f.mu.Unlock()
	f.report()
}

// report tells progress, once the total is known (the root's links
// declare it).
func (f *fetch) report() {
	if f.o.Report == nil {
		return
	}
	f.mu.Lock()
	if f.p.Total == 0 {
		f.mu.Unlock()
		return
	}
	f.p.Total = max(f.p.Total, f.p.Done) // a DAG may understate its sizes
	p := f.p
	f.mu.Unlock()
	p.Peers = f.peerBytes()
	f.reportMu.Lock() // Report is called from one goroutine at a time
	f.o.Report(p)
	f.reportMu.Unlock()
}

func (f *fetch) peerBytes() map[peer.ID]int64 {
	now := f.e.Stats()
	out := make(map[peer.ID]int64)
	for p, s := range now {
		if d := s.Received - f.start[p].Received; d > 0 {
			out[p] = d
		}
	}
	return out
}

// link is a child to fetch with the DAG size its parent declares.
type link struct {
	c    cid.Cid
	size uint64
}

// linksOf returns what a block links to (only dag-pb has links here).
func linksOf(b blocks.Block) ([]link, error) {
	if b.Cid().Type() != cid.DagProtobuf {
		return nil, nil
	}
	n, err := dag.DecodeProtobuf(b.RawData())
	if err != nil {
		return nil, fmt.Errorf("block %s: %w", b.Cid(), err)
	}
	out := make([]link, len(n.Links()))
	for i, l := range n.Links() {
		out[i] = link{c: l.Cid, size: l.Size}
	}
	return out, nil
}

// tracer counts block bytes per peer in both directions.
type tracer Exchange

func (t *tracer) count(p peer.ID, m bsmsg.BitSwapMessage, sent bool) {
	bl := m.Blocks()
	if len(bl) == 0 {
		return
	}
	var n int64
	for _, b := range bl {
		n += int64(len(b.RawData()))
	}
	(*Exchange)(t).count(p, n, len(bl), sent)
}

// count adds block bytes exchanged with p to its stats.
func (e *Exchange) count(p peer.ID, bytes int64, nblocks int, sent bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.stats[p]
	if s == nil {
		s = &PeerStats{}
		e.stats[p] = s
	}
	if sent {
		s.Sent += bytes
		s.BlocksSent += nblocks
	} else {
		s.Received += bytes
		s.BlocksReceived += nblocks
	}
}

func (t *tracer) MessageReceived(p peer.ID, m bsmsg.BitSwapMessage) {
	t.count(p, m, false)
	(*Exchange)(t).judge(p, m.Blocks())
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
	j := e.judged[p]
	if j == nil {
		j = &judgement{}
		e.judged[p] = j
	}
	for _, b := range bl {
		if !e.asked.has(string(b.Cid().Hash()), time.Now()) {
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
	j := e.judged[p]
	if j == nil {
		j = &judgement{}
		e.judged[p] = j
	}
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
		e.asked.add(string(c.Hash()), now)
	}
}

// askedSet holds the multihashes asked for within the last askedFor, in
// two generations: the current one, and the one before, dropped whole
// when the current one is askedFor old. Nothing is ever scanned.
type askedSet struct {
	cur, prev map[string]struct{}
	since     time.Time // when cur began
}

func (s *askedSet) rotate(now time.Time) {
	if s.cur == nil || now.Sub(s.since) > askedFor {
		s.prev, s.cur, s.since = s.cur, map[string]struct{}{}, now
	}
}

func (s *askedSet) add(h string, now time.Time) {
	s.rotate(now)
	s.cur[h] = struct{}{}
}

// has reports whether h was asked for in the last askedFor (or up to
// twice that: a generation is dropped whole).
func (s *askedSet) has(h string, now time.Time) bool {
	s.rotate(now)
	if _, ok := s.cur[h]; ok {
		return true
	}
	_, ok := s.prev[h]
	return ok
}

func (t *tracer) MessageSent(p peer.ID, m bsmsg.BitSwapMessage) { t.count(p, m, true) }

// serverStore adapts the store for Bitswap's server, whose engine takes a
// block size of 0 to mean "missing": the empty block (an empty file) would
// never be served, and Kubo asking pollen for it would wait forever.
type serverStore struct{ bstore.Blockstore }

func (s serverStore) GetSize(ctx context.Context, c cid.Cid) (int, error) {
	n, err := s.Blockstore.GetSize(ctx, c)
	if err == nil && n == 0 {
		return 1, nil // only the engine's queue accounting sees this
	}
	return n, err
}
