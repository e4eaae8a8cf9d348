package pollen

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	lpswarm "github.com/libp2p/go-libp2p/p2p/net/swarm"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/pollen-p2p/pollen/blockstore"
	"github.com/pollen-p2p/pollen/exchange"
	"github.com/pollen-p2p/pollen/live"
	"github.com/pollen-p2p/pollen/swarm"
)

// Network types, re-exported for callers of this package.
type (
	// Ticket is a root CID with a peer that has it; see ParseTicket.
	Ticket = swarm.Ticket
	// FetchProgress is a snapshot of a transfer.
	FetchProgress = exchange.Progress
	// PeerStats counts the block bytes exchanged with one peer.
	PeerStats = exchange.PeerStats
	// RelayLimits is what a relay service allows (see Config).
	RelayLimits = swarm.RelayLimits
	// Limits are a node's upload and download rates (see Config).
	Limits = swarm.Limits
	// Reach is what the node knows of how peers can reach it.
	Reach = swarm.Reach
)

// ParseTicket reads a ticket string.
func ParseTicket(s string) (Ticket, error) { return swarm.ParseTicket(s) }

// ErrBadTicket is wrapped by ParseTicket errors.
var ErrBadTicket = swarm.ErrBadTicket

// ErrNoPeers is wrapped when a get could reach nobody who has the content.
var ErrNoPeers = errors.New("no peer has it")

// identityFile holds the node's libp2p key inside the repo.
const identityFile = "identity.key"

// StartNetwork brings the node online: its libp2p host (with the repo's
// identity), discovery, and Bitswap serving every stored block.
func (n *Node) StartNetwork() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return errors.New("start network: node closed")
	}
	if n.net != nil {
		return nil
	}
	key, err := swarm.LoadIdentity(filepath.Join(n.dir, identityFile))
	if err != nil {
		return err
	}
	sw, err := swarm.New(swarm.Config{
		Identity:     key,
		Listen:       n.cfg.Listen,
		Offline:      n.cfg.Offline,
		NoMDNS:       n.cfg.NoMDNS,
		Bootstrap:    n.cfg.Bootstrap,
		Relays:       n.cfg.Relays,
		RelayService: n.cfg.RelayService,
		Limits:       n.cfg.Limits,
		Shaped:       n.cfg.Shaped,
		PSK:          n.psk,
		Logger:       n.log,
	})
	if err != nil {
		return err
	}
	// Which blocks are private, and which roots are not seeded, is known
	// before any block is served.
	if err := errors.Join(n.refreshAccess(n.ctx), n.indexUnseeded(n.ctx)); err != nil {
		sw.Close()
		return fmt.Errorf("start network: %w", err)
	}
	cfg := exchange.Config{Logger: n.log, Misbehaving: sw.Block, Gate: gate{n.access, n.seeding}, Served: n.served}
	nw := &netState{swarm: sw}
	if sw.Routing != nil {
		cfg.Routing = sw.Routing
		nw.announce = make(chan cid.Cid, announceQueue)
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.announcer(nw)
		}()
	}
	nw.ex = exchange.New(sw.Host, n.store, cfg)
	nw.live = live.NewService(sw.Host, n.lv.book, n.log)
	n.net = nw
	return nil
}

// ScrubWhileServing starts, once, the scrub that a node serving for a
// long time runs (see scrubber); Close stops it. A get that ends soon
// has no use for it, and its disk reads would compete with the get's.
func (n *Node) ScrubWhileServing() {
	n.scrubOnce.Do(func() {
		if n.ctx.Err() != nil { // closed
			return
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.scrubber()
		}()
	})
}

// A node that serves scrubs its store now and then, slowly (once
// ScrubWhileServing is called): serving does
// not re-hash what it sends (see blockstore.ServeView), so this is how it
// finds blocks its disk damaged before too many getters are sent them.
const (
	scrubAfter = time.Minute    // after it starts serving
	scrubEvery = 24 * time.Hour // between passes
	scrubRate  = 16 << 20       // bytes a second: ~1% of a core, a slow disk's spare reads
)

// scrubber runs a scrub pass scrubAfter it starts and every scrubEvery
// after, until the node closes.
func (n *Node) scrubber() {
	wait := scrubAfter
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-time.After(wait):
		}
		if _, err := n.Scrub(n.ctx); err != nil && n.ctx.Err() == nil {
			n.log.Warn("scrub", "err", err)
		}
		wait = scrubEvery
	}
}

// Scrub re-hashes the blocks the store holds itself, at scrubRate, and
// drops those a disk damaged; a node that serves runs it once a day.
func (n *Node) Scrub(ctx context.Context) (blockstore.ScrubResult, error) {
	return n.store.Scrub(ctx, scrubRate)
}

// online returns the network, or nil before StartNetwork.
func (n *Node) online() *netState {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.net
}

// Online reports whether StartNetwork has run.
func (n *Node) Online() bool { return n.online() != nil }

// ID is the node's peer ID; empty before StartNetwork.
func (n *Node) ID() peer.ID {
	if nw := n.online(); nw != nil {
		return nw.swarm.Host.ID()
	}
	return ""
}

// Addrs are the node's full dialable addresses, /.../p2p/ID; none before
// StartNetwork.
func (n *Node) Addrs() []ma.Multiaddr {
	if nw := n.online(); nw != nil {
		return nw.swarm.Addrs()
	}
	return nil
}

// AddrInfo is the node's ID and the addresses its tickets carry (none
// before StartNetwork).
func (n *Node) AddrInfo() peer.AddrInfo {
	if nw := n.online(); nw != nil {
		return nw.swarm.AddrInfo()
	}
	return peer.AddrInfo{}
}

// Reach returns what the node knows of its reachability, and a channel
// closed when that changes (nil before StartNetwork).
func (n *Node) Reach() (Reach, <-chan struct{}) {
	if nw := n.online(); nw != nil {
		return nw.swarm.Reach()
	}
	return Reach{}, nil
}

// Ticket makes the ticket for root, naming this node and its addresses
// (no peer before StartNetwork), with a private share's secret.
func (n *Node) Ticket(root cid.Cid) Ticket {
	t := Ticket{Root: root, Name: n.nameOf(root), Peer: n.AddrInfo()}
	recs, _ := n.store.RecordsOf(root)
	for _, r := range recs {
		if r.Private() {
			t.Secret = r.Secret
			for _, s := range r.Allow {
				if id, err := peer.Decode(s); err == nil {
					t.Allow = append(t.Allow, id)
				}
			}
			break
		}
	}
	return t
}

// Share adds path, records it as a share and announces it.
func (n *Node) Share(ctx context.Context, path string, o AddOptions) (AddResult, error) {
	res, err := n.Add(ctx, path, o)
	if err != nil {
		return res, err
	}
	if !o.Private && len(o.Allow) == 0 {
		n.provide(res.Root)
	}
	return res, nil
}

// fetch dials the given peers, then brings every block of root into the
// store; its errors say what was tried.
func (n *Node) fetch(ctx context.Context, nw *netState, root cid.Cid, o GetOptions, sink exchange.Sink) error {
	// The given peers are dialled at once, and the fetch starts with the
	// first that answers; with a DHT, which may know other holders, it
	// waits no longer than dialHead for one (a sharer that left would
	// hold every get for its whole dial timeout).
	var (
		mu      sync.Mutex
		tried   []string
		reached int
		gone    = map[peer.ID]bool{} // dials refused: the fetch does not wait for them
		dials   sync.WaitGroup
	)
	first, all := make(chan struct{}), make(chan struct{})
	var once sync.Once
	dialing, stopDials := context.WithCancel(ctx)
	defer func() {
		stopDials()
		dials.Wait()
	}()
	for _, p := range o.From {
		dials.Add(1)
		go func() {
			defer dials.Done()
			dctx, cancel := context.WithTimeout(dialing, dialFor)
			err := nw.swarm.Find(dctx, p)
			cancel()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				tried = append(tried, fmt.Sprintf("%s (%s)", p.ID, dialError(err)))
				gone[p.ID] = refused(err)
				return
			}
			reached++
			tried = append(tried, p.ID.String()+" (connected)")
			once.Do(func() { close(first) })
		}()
	}
	go func() {
		dials.Wait()
		close(all)
	}()
	var head <-chan time.Time
	if nw.swarm.Routing != nil {
		head = time.After(dialHead)
	}
	select {
	case <-first:
	case <-all:
	case <-head:
	case <-ctx.Done():
	}
	triedSo := func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(tried, "; ")
	}
	mu.Lock()
	none := reached == 0
	mu.Unlock()
	if len(o.From) > 0 && none && nw.swarm.Routing == nil && len(nw.swarm.Host.Network().Peers()) == 0 {
		if ok, _ := n.store.Has(ctx, root); !ok {
			return fmt.Errorf("get %s: could not reach any peer: tried %s", root, triedSo())
		}
	}
	kctx, stop := context.WithCancel(ctx)
	kept := make(chan struct{})
	go func() {
		defer close(kept)
		keepConnected(kctx, nw.swarm, o.From)
	}()
	ps, part := sink.(*partSink)
	part = part && !ps.whole
	if o.Secret != nil {
		sink = privateSink{sink, n.access, n.access.begin(root, o.Secret, o.Allow)}
	}
	// The peers dialled are the fetch's sources: it waits for them, not
	// only for the peers it meets first, before it asks Bitswap.
	var sources []peer.ID
	for _, p := range o.From {
		sources = append(sources, p.ID)
	}
	unreachable := func(id peer.ID) bool {
		mu.Lock()
		defer mu.Unlock()
		return gone[id]
	}
	err := nw.ex.Fetch(ctx, root, exchange.FetchOptions{
		Stall: o.Stall, Report: o.Fetch, Sink: sink, Part: (part || o.only != nil) && !o.holder, Secret: o.Secret,
		Spare: o.Spare, SpareSince: o.spareSince, Sources: sources, Unreachable: unreachable,
	})
	stop()
	<-kept
	if err == nil {
		return nil
	}
	if errors.Is(err, exchange.ErrStalled) {
		np := len(nw.swarm.Host.Network().Peers())
		where := fmt.Sprintf("%d connected %s", np, map[bool]string{true: "peer", false: "peers"}[np == 1])
		if t := triedSo(); t != "" {
			where = "tried " + t + "; " + where
		}
		if nw.swarm.Routing == nil {
			where += "; DHT off"
		} else {
			where += "; asked the DHT"
		}
		return fmt.Errorf("get %s: %w: %v; %s", root, ErrNoPeers, err, where)
	}
	return fmt.Errorf("get %s: %w", root, err)
}

// dialError shortens a libp2p dial error to its cause.
func dialError(err error) string {
	msg := err.Error()
	for _, cut := range []string{"all dials failed", "failed to dial"} {
		if i := strings.Index(msg, cut); i >= 0 {
			msg = msg[i:]
		}
	}
	return strings.Join(strings.Fields(msg), " ")
}

// refused reports whether a dial failed because nothing answers at the
// peer's addresses (its host refused, no route, no address), not
// because it was slow: a get waits a while for a source behind a full
// link, whose handshake times out and is dialled again, but not for one
// that is gone.
func refused(err error) bool {
	for _, cause := range []error{syscall.ECONNREFUSED, syscall.EHOSTUNREACH, syscall.ENETUNREACH, lpswarm.ErrNoAddresses} {
		if errors.Is(err, cause) {
			return true
		}
	}
	return false
}

// PeerInfo describes a connection to a peer.
type PeerInfo struct {
	ID      peer.ID
	Addr    ma.Multiaddr
	Relayed bool     // the connection goes through a relay
	Kind    ConnKind // direct, relayed or hole-punched
	Inbound bool
	PeerStats
}

// Peers lists the connected peers with the bytes exchanged with each;
// none before StartNetwork.
func (n *Node) Peers() []PeerInfo {
	nw := n.online()
	if nw == nil {
		return nil
	}
	stats := nw.ex.Stats()
	var out []PeerInfo
	for _, c := range nw.swarm.Host.Network().Conns() {
		p := c.RemotePeer()
		kind := nw.swarm.ConnKind(c)
		out = append(out, PeerInfo{
			ID:        p,
			Addr:      c.RemoteMultiaddr(),
			Relayed:   kind == ConnRelayed,
			Kind:      kind,
			Inbound:   c.Stat().Direction == network.DirInbound,
			PeerStats: stats[p],
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// BitswapStat is Bitswap's own counters; see Node.Bitswap.
type BitswapStat = exchange.BitswapStat

// Bitswap returns Bitswap's counters since the network started (zero
// before).
func (n *Node) Bitswap() BitswapStat {
	if nw := n.online(); nw != nil {
		return nw.ex.Bitswap()
	}
	return BitswapStat{}
}

// Traffic returns the block bytes exchanged with every peer since the
// network started (none before).
func (n *Node) Traffic() map[peer.ID]PeerStats {
	if nw := n.online(); nw != nil {
		return nw.ex.Stats()
	}
	return nil
}

// SwarmKeyFile is the name of a private network's key in a repo (see
// Node.PrivateNetwork).
const SwarmKeyFile = swarm.PSKFile

// NewSwarmKey returns a new private network key, in the format of Kubo's
// swarm.key.
func NewSwarmKey() []byte { return swarm.NewPSK() }

// Connect dials p (through the DHT when p has no addresses and there is
// one).
func (n *Node) Connect(ctx context.Context, p peer.AddrInfo) error {
	nw := n.online()
	if nw == nil {
		return errors.New("connect: the network is not started")
	}
	return nw.swarm.Find(ctx, p)
}
