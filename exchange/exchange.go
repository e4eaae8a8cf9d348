package exchange

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ipfs/boxo/bitswap"
	bsnet "github.com/ipfs/boxo/bitswap/network/bsnet"
	bstore "github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
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
	// Gate decides which blocks each peer is served; nil serves every
	// stored block to anyone.
	Gate Gate
	// Served is told of every block sent to a peer, over pollen's
	// protocols or Bitswap (it must not block); nil for none.
	Served func(p peer.ID, c cid.Cid, size int)
}

// Exchange is Bitswap (client and server) on a host, over a store.
type Exchange struct {
	bs      *bitswap.Bitswap
	store   bstore.Blockstore
	routing routing.ContentRouting
	log     *slog.Logger

	h           host.Host
	misbehaving func(peer.ID)
	gate        Gate
	served      func(peer.ID, cid.Cid, int)
	notes       storedLog
	asking      storedLog // what this node asked pollen peers for
	// fetches counts the fetches running: what this node asked for is
	// told to other getters only while one runs (a stalled or ended
	// get's asks would hold their blocks back for fetchHold).
	fetches atomic.Int32
	load    budget  // what peers' streams hold while served
	chokes  chokes  // which getters are served now (choke.go)
	trades  trades  // the getters holding blocks this node fetches
	pex     holders // who holds which root, for peer exchange

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // stream handlers and cut-offs running; Close waits

	mu     sync.Mutex
	closed bool
	stats  map[peer.ID]*PeerStats
	judged map[peer.ID]*judgement
	asked  askedSet
}

// PeerStats counts the block bytes exchanged with one peer.
type PeerStats struct {
	Received, Sent             int64 // block bytes
	BlocksReceived, BlocksSent int
}

// Progress is a snapshot of a fetch.
type Progress struct {
	Done, Total int64 // block bytes present of the DAG's size
	Here        int64 // of Done, the block bytes found in the store, not fetched
	Blocks      int   // blocks present so far
	// Damaged counts blocks peers sent with wrong bytes: each was dropped
	// and asked of other peers.
	Damaged int
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
		store: store, routing: cfg.Routing, log: cfg.Logger, h: h, misbehaving: cfg.Misbehaving, gate: cfg.Gate, served: cfg.Served,
		stats: map[peer.ID]*PeerStats{}, judged: map[peer.ID]*judgement{},
		notes: storedLog{keep: keepNotes}, asking: storedLog{keep: keepAsks},
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.chokes.init(rand.IntN)
	e.wg.Add(1)
	go e.rechokeLoop()
	var finder routing.ContentDiscovery
	if cfg.Routing != nil {
		finder = cfg.Routing
	}
	e.bs = bitswap.New(e.ctx, bsnet.NewFromIpfsHost(h), finder, serverStore{store, e},
		bitswap.MaxOutstandingBytesPerPeer(maxOutstandingBytesPerPeer),
		bitswap.MaxQueuedWantlistEntriesPerPeer(maxQueuedWants),
		bitswap.TaskWorkerCount(taskWorkers),
		bitswap.EngineTaskWorkerCount(taskWorkers),
		bitswap.WithTargetMessageSize(targetMessageSize),
		bitswap.ProviderSearchDelay(providerSearchDelay),
		bitswap.WithTracer((*tracer)(e)),
		bitswap.WithPeerBlockRequestFilter(e.serves),
	)
	h.SetStreamHandler(ProtoBlocks, e.handle(blocksStream, e.serveBlocks))
	h.SetStreamHandler(ProtoBlocksChoke, e.handle(blocksStream, e.serveBlocks))
	h.SetStreamHandler(ProtoHave, e.handle(haveStream, e.serveHave))
	h.SetStreamHandler(ProtoHaveFetching, e.handle(haveStream, e.serveHave))
	h.SetStreamHandler(ProtoPeers, e.handle(peersStream, e.servePeers))
	h.SetStreamHandler(ProtoUnlock, e.handle(peersStream, e.serveUnlock))
	return e
}

// Close stops Bitswap and the pollen protocols and waits for every stream
// they serve, which it resets.
func (e *Exchange) Close() error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.h.RemoveStreamHandler(ProtoBlocks)
	e.h.RemoveStreamHandler(ProtoBlocksChoke)
	e.h.RemoveStreamHandler(ProtoHave)
	e.h.RemoveStreamHandler(ProtoHaveFetching)
	e.h.RemoveStreamHandler(ProtoPeers)
	e.h.RemoveStreamHandler(ProtoUnlock)
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
// stream and waits for it. A stream past its peer's share of the serving
// budget is reset at once.
func (e *Exchange) handle(kind streamKind, serve func(network.Stream)) network.StreamHandler {
	return func(s network.Stream) {
		if !e.enter() {
			s.Reset()
			return
		}
		defer e.wg.Done()
		p := s.Conn().RemotePeer()
		if !e.load.open(p, kind) {
			s.Reset()
			return
		}
		defer e.load.close(p, kind)
		stop := context.AfterFunc(e.ctx, func() { s.Reset() })
		defer stop()
		serve(s)
	}
}

// serves reports whether block c may be sent to p (see Gate).
func (e *Exchange) serves(p peer.ID, c cid.Cid) bool {
	return e.gate == nil || e.gate.Serves(p, c)
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
	// Part says the fetch takes part of the DAG (a listing, some files):
	// it does not ask peers for the root's holders, which would count it
	// as one.
	Part bool
	// Secret makes the fetch a private share's: its CIDs go only to pollen
	// peers that proved they hold the secret (see Unlock), never to
	// Bitswap or the content routing.
	Secret []byte
	// Spare peers are asked only for blocks no other peer holds: a live
	// folder's sharer, whose followers trade its change among them.
	Spare []peer.ID
	// Sources are the peers the fetch was pointed at (a ticket's
	// holders, the peers a get dials first). Blocks no pollen peer holds
	// go to Bitswap only once each of them said what it holds, turned
	// out unreachable or not a pollen peer, or a bound passed: a seeder
	// behind a full link answers a dial late, and its Bitswap server
	// does not super-seed (sources.go).
	Sources []peer.ID
	// Unreachable reports a source whose dial was refused, so the fetch
	// does not wait for it; nil when nobody knows. A dial that timed out
	// is not refused: the peer may be behind a full link, dialled again.
	Unreachable func(peer.ID) bool
	// SpareSince is when the wait for other holders than the spare peers
	// began (a follower: when it was told of the version); zero for the
	// fetch's start. Past it by a grace, spare peers are asked anyway.
	SpareSince time.Time
}

// A Sink takes the blocks of the DAG a fetch walks, parents before
// children. It may be called from several goroutines at once.
type Sink interface {
	// Put takes blocks that arrived, checked against their CIDs; they
	// must be in the store (or where it can find them) when it returns,
	// for the fetch tells its peers so. A dag-pb node among them is given
	// again to Local when the walk reaches it.
	Put(ctx context.Context, bl []blocks.Block) error
	// Wants says whether the sink waits for the block c, so the walk
	// reads a stored block (and goes below a node) only where it is
	// needed: a node that occurs many times is read once for each time
	// the sink asks for it. A missing block it does not want is not
	// fetched: a sink may take part of a DAG.
	Wants(c cid.Cid) bool
	// Local is given each block of the DAG the sink wants, from the
	// store, when the walk reaches it: every dag-pb node, and the leaves
	// that were stored already.
	Local(ctx context.Context, b blocks.Block) error
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
