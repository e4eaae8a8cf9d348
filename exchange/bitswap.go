package exchange

import (
	"bytes"
	"context"
	"sync"
	"time"

	bsmsg "github.com/ipfs/boxo/bitswap/message"
	bstore "github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The Bitswap side: boxo's client fetches what no pollen peer holds (and
// everything from other IPFS nodes); its server serves every IPFS node.

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
	// reaskAfter is how long a chunk may see nothing arrive before its
	// wants are sent again.
	reaskAfter = 5 * time.Second
	// maxQueuedWants lets pollen peers queue more wants from us than the
	// default 1024 (a server drops the ones past it without a word).
	maxQueuedWants = 4096
)

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

// blockGetter is the part of a Bitswap session a fetch uses.
type blockGetter interface {
	GetBlocks(context.Context, []cid.Cid) (<-chan blocks.Block, error)
}

// handOver is a level's part in a Bitswap fetch of the blocks it handed
// over: it may take some back (a pollen peer is asked for them now, and
// Bitswap's copy would be a duplicate), and it learns which arrived.
type handOver struct {
	mu    sync.Mutex
	taken map[string]struct{} // multihashes taken back, not yet struck
	wake  chan struct{}       // closed when one is taken back
	// stored is told of the blocks Bitswap brought, once stored.
	stored func([]blocks.Block)
}

func newHandOver(stored func([]blocks.Block)) *handOver {
	return &handOver{taken: map[string]struct{}{}, wake: make(chan struct{}), stored: stored}
}

// takeBack strikes c from the wants.
func (h *handOver) takeBack(c cid.Cid) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.taken[string(c.Hash())] = struct{}{}
	close(h.wake)
	h.wake = make(chan struct{})
}

// give clears c's taking back: it is handed over again.
func (h *handOver) give(c cid.Cid) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.taken, string(c.Hash()))
}

// waiting returns a channel closed at the next takeBack.
func (h *handOver) waiting() <-chan struct{} {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.wake
}

// strike deletes from rest what was taken back, and reports whether
// anything was.
func (h *handOver) strike(rest map[string]cid.Cid) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	struck := false
	for k := range rest {
		if _, ok := h.taken[k]; ok {
			delete(h.taken, k)
			delete(rest, k)
			struck = true
		}
	}
	return struck
}

// fetchAll asks for cs in chunks, a few chunks at a time. h, when not
// nil, is the level that handed them over.
func (d *download) fetchAll(ctx context.Context, ls []link, h *handOver) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
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
			err := d.askBitswap(ctx, chunk, h)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = err
				cancel()
			}
		}()
	}
	wg.Wait()
	if first == nil && len(ls) > 0 {
		first = ctx.Err()
	}
	return first
}

// askBitswap asks the session for cs until all arrived. Wants can be lost (a busy server drops those past its queue limit), so
// when none of the rest has arrived for reaskAfter, it cancels them and
// asks again.
func (d *download) askBitswap(ctx context.Context, cs []cid.Cid, h *handOver) error {
	rest := make(map[string]cid.Cid, len(cs))
	for _, c := range cs {
		rest[string(c.Hash())] = c
	}
	sess := d.sess
	for len(rest) > 0 {
		// Taken back while this chunk waited its turn, or between rounds.
		if h != nil && h.strike(rest) && len(rest) == 0 {
			return nil
		}
		want := make([]cid.Cid, 0, len(rest))
		for _, c := range rest {
			want = append(want, c)
		}
		err := d.fetchOnce(ctx, sess, want, rest, h)
		// Ask again in a fresh session: the old one may hold a peer's
		// "don't have" for these blocks and never ask it again.
		sess = d.e.bs.NewSession(ctx)
		if err != nil {
			return err
		}
	}
	return nil
}

// fetchOnce asks for cs once, stores what arrives and strikes it from
// rest; it returns when all arrived, none has for reaskAfter, or h took
// one back (Bitswap is asked again for the rest).
func (d *download) fetchOnce(ctx context.Context, sess blockGetter, cs []cid.Cid, rest map[string]cid.Cid, h *handOver) error {
	d.e.ask(cs)
	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := sess.GetBlocks(actx, cs)
	if err != nil {
		return err
	}
	var batch []blocks.Block
	size := 0
	put := func() error {
		if err := d.store(ctx, batch); err != nil {
			return err
		}
		if h != nil && len(batch) > 0 {
			h.stored(batch)
		}
		batch, size = nil, 0
		return nil
	}
	idle := time.NewTimer(reaskAfter)
	defer idle.Stop()
	taken := h.waiting()
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
		case <-taken:
			taken = h.waiting()
			if h.strike(rest) {
				cancel()
			}
			continue
		}
		if _, wanted := rest[string(b.Cid().Hash())]; !wanted {
			continue
		}
		delete(rest, string(b.Cid().Hash()))
		d.touch()
		idle.Reset(reaskAfter)
		batch = append(batch, b)
		size += len(b.RawData())
		if size >= storeBytes || len(batch) >= storeBlocks {
			if err := put(); err != nil {
				return err
			}
		}
		d.got(b.Cid(), len(b.RawData()))
	}
	if err := put(); err != nil {
		return err
	}
	return ctx.Err()
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

func (t *tracer) MessageReceived(p peer.ID, m bsmsg.BitSwapMessage) {
	t.count(p, m, false)
	(*Exchange)(t).judge(p, m.Blocks())
}

func (t *tracer) MessageSent(p peer.ID, m bsmsg.BitSwapMessage) {
	t.count(p, m, true)
	if t.served != nil {
		for _, b := range m.Blocks() {
			t.served(p, b.Cid(), len(b.RawData()))
		}
	}
}

// serverStore adapts the store for Bitswap's server, whose engine takes a
// block size of 0 to mean "missing": the empty block (an empty file) would
// never be served, and Kubo asking pollen for it would wait forever.
type serverStore struct {
	bstore.Blockstore
	e *Exchange
}

// Get hands Bitswap's server a block read as ProtoBlocks' are (see view).
func (s serverStore) Get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	if ss, ok := s.Blockstore.(servingStore); ok {
		var b blocks.Block
		err := ss.ServeView(ctx, c, func(data []byte) error {
			var err error
			b, err = blocks.NewBlockWithCid(bytes.Clone(data), c)
			return err
		})
		return b, err
	}
	b, err := s.Blockstore.Get(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := s.e.intact(ctx, c, b.RawData()); err != nil {
		return nil, err
	}
	return b, nil
}

func (s serverStore) GetSize(ctx context.Context, c cid.Cid) (int, error) {
	n, err := s.Blockstore.GetSize(ctx, c)
	if err == nil && n == 0 {
		return 1, nil // only the engine's queue accounting sees this
	}
	return n, err
}
