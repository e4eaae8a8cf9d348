package exchange

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	dag "github.com/ipfs/boxo/ipld/merkledag"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
)

// A download is one fetch of a DAG: everything it holds (what it asked
// for, its progress, its levels and their goroutines) belongs to the
// download value and is gone when Fetch returns.

// Received blocks are stored in batches of this many bytes or blocks:
// small enough that a killed fetch loses little and the files being
// written never wait long.
const (
	storeBytes  = 256 << 10
	storeBlocks = 64
)

// Fetch brings every block of the DAG under root into the store.
func (e *Exchange) Fetch(ctx context.Context, root cid.Cid, o FetchOptions) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e.fetches.Add(1)
	defer e.fetches.Add(-1)
	if o.SpareSince.IsZero() {
		o.SpareSince = time.Now()
	}
	d := &download{e: e, o: o, sess: e.bs.NewSession(ctx), start: e.Stats(), began: time.Now(), last: time.Now()}
	var watching sync.WaitGroup
	if o.Stall > 0 {
		watching.Add(1)
		go func() {
			defer watching.Done()
			d.watchdog(ctx, cancel)
		}()
	}
	if !o.Part {
		watching.Add(1)
		go func() {
			defer watching.Done()
			d.exchangePeers(ctx, root)
		}()
	}
	err := d.run(ctx, root)
	cancel()
	watching.Wait()
	if !o.Part {
		for p := range d.peerBytes() { // they hold root, or part of it
			e.pex.add(root, p)
		}
	}
	if err == nil && o.Report != nil {
		// Done counts each distinct block once; a DAG that holds one block
		// twice declares it twice in its sizes. Finished is finished.
		d.mu.Lock()
		d.p.Done = d.p.Total
		p := d.p
		d.mu.Unlock()
		p.Peers = d.peerBytes()
		p.Damaged = int(d.damaged.Load())
		o.Report(p)
	} else if err != nil {
		d.report() // the last word, whatever came after the last block
	}
	if err != nil && d.stalled.Load() {
		d.mu.Lock()
		have := "none of it here"
		if d.p.Total > 0 {
			have = fmt.Sprintf("%d of %d bytes here", d.p.Done, d.p.Total)
		}
		d.mu.Unlock()
		if n := d.damaged.Load(); n > 0 {
			have += fmt.Sprintf("; %d blocks arrived damaged and were dropped", n)
		}
		if r := d.refusal(); r != nil {
			have += "; a peer refused: " + r.Error()
		}
		return fmt.Errorf("%w for %s (%s)", ErrStalled, o.Stall, have)
	}
	if err != nil {
		return fmt.Errorf("fetch %s: %w", root, err)
	}
	return nil
}

type download struct {
	e     *Exchange
	o     FetchOptions
	sess  blockGetter
	start map[peer.ID]PeerStats
	rates sync.Map  // peer.ID → float64: bytes a second, measured by a level
	began time.Time // when Fetch was called: the wait for its sources counts from it

	mu sync.Mutex
	p  Progress
	// asked counts, by multihash, the places in the DAG of each block the
	// walk's window is fetching, not yet arrived: each place adds the
	// block's bytes to p, as each adds them to the DAG's declared sizes.
	asked   map[string]int
	arrived bool      // a block came from a peer
	last    time.Time // when the last block arrived
	stalled atomic.Bool
	damaged atomic.Int64 // blocks peers sent with wrong bytes, dropped
	adm     admission    // a private share's: the peers that proved they hold it

	reportMu sync.Mutex
}

func (d *download) watchdog(ctx context.Context, cancel context.CancelFunc) {
	t := time.NewTicker(d.o.Stall / 10)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			d.mu.Lock()
			idle := time.Since(d.last)
			d.mu.Unlock()
			if idle > d.o.Stall {
				d.stalled.Store(true)
				cancel()
				return
			}
		}
	}
}

// store hands received blocks to the sink (or puts them in the store:
// Bitswap's client does not), then tells ProtoHave subscribers and
// Bitswap's server, so peers can fetch them from here at once.
func (d *download) store(ctx context.Context, bl []blocks.Block) error {
	if len(bl) == 0 {
		return nil
	}
	var err error
	if d.o.Sink != nil {
		err = d.o.Sink.Put(ctx, bl)
	} else {
		err = d.e.store.PutMany(ctx, bl)
	}
	if err != nil {
		return err
	}
	return d.e.announce(ctx, bl)
}

func (d *download) touch() {
	d.mu.Lock()
	d.last = time.Now()
	d.mu.Unlock()
}

// got records a block that arrived, and reports.
func (d *download) got(c cid.Cid, size int) {
	d.mu.Lock()
	n := d.asked[string(c.Hash())]
	delete(d.asked, string(c.Hash())) // one copy counts, however many come
	d.p.Done += int64(n * size)
	if n > 0 {
		d.p.Blocks++
		d.arrived = true
	}
	d.mu.Unlock()
	d.report()
}

// here counts a block found in the store: the walk is moving, so the
// stall watchdog waits. Until the first block arrives, what is found was
// here before this download (a resumed get); after, it may be a block
// this download brought, met again in another place of the DAG.
func (d *download) here(size int) {
	d.mu.Lock()
	d.last = time.Now()
	d.p.Done += int64(size)
	if !d.arrived {
		d.p.Here += int64(size)
	}
	d.p.Blocks++
	d.mu.Unlock()
}

// report tells progress, once the total is known (the root's links
// declare it).
func (d *download) report() {
	if d.o.Report == nil {
		return
	}
	d.mu.Lock()
	if d.p.Total == 0 {
		d.mu.Unlock()
		return
	}
	d.p.Total = max(d.p.Total, d.p.Done) // a DAG may understate its sizes
	p := d.p
	d.mu.Unlock()
	p.Peers = d.peerBytes()
	p.Damaged = int(d.damaged.Load())
	d.reportMu.Lock() // Report is called from one goroutine at a time
	d.o.Report(p)
	d.reportMu.Unlock()
}

func (d *download) peerBytes() map[peer.ID]int64 {
	now := d.e.Stats()
	out := make(map[peer.ID]int64)
	for p, s := range now {
		if d := s.Received - d.start[p].Received; d > 0 {
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
