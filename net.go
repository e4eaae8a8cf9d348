package pollen

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/pollen-p2p/pollen/blockstore"
	"github.com/pollen-p2p/pollen/chunker"
	"github.com/pollen-p2p/pollen/exchange"
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
	if n.swarm != nil {
		return nil
	}
	key, err := swarm.LoadIdentity(filepath.Join(n.dir, identityFile))
	if err != nil {
		return err
	}
	sw, err := swarm.New(swarm.Config{
		Identity:  key,
		Listen:    n.cfg.Listen,
		Offline:   n.cfg.Offline,
		NoMDNS:    n.cfg.NoMDNS,
		Bootstrap: n.cfg.Bootstrap,
		Logger:    n.log,
	})
	if err != nil {
		return err
	}
	cfg := exchange.Config{Logger: n.log, Misbehaving: sw.Block}
	if sw.Routing != nil {
		cfg.Routing = sw.Routing
	}
	n.swarm, n.ex = sw, exchange.New(sw.Host, n.store.Fetched(), cfg)
	return nil
}

// Online reports whether StartNetwork has run.
func (n *Node) Online() bool { return n.swarm != nil }

// ID is the node's peer ID (the network must be started).
func (n *Node) ID() peer.ID { return n.swarm.Host.ID() }

// Addrs are the node's full dialable addresses, /.../p2p/ID.
func (n *Node) Addrs() []ma.Multiaddr { return n.swarm.Addrs() }

// Ticket makes the ticket for root, naming this node and its addresses.
func (n *Node) Ticket(root cid.Cid) Ticket {
	return Ticket{Root: root, Name: n.nameOf(root), Peer: n.swarm.AddrInfo()}
}

// Share adds path, records it as a share and announces it.
func (n *Node) Share(ctx context.Context, path string, o AddOptions) (AddResult, error) {
	res, err := n.Add(ctx, path, o)
	if err != nil {
		return res, err
	}
	n.provide(res.Root)
	return res, nil
}

// ProvideAll announces every shared and fetched root on the DHT, when
// there is one.
func (n *Node) ProvideAll(ctx context.Context) {
	recs, err := n.List()
	if err != nil {
		return
	}
	for _, r := range recs {
		if ctx.Err() != nil {
			return
		}
		n.provide(r.Root)
	}
}

// provide announces root on the DHT in the background, when there is one.
func (n *Node) provide(root cid.Cid) {
	if n.ex == nil || n.swarm.Routing == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := n.ex.Provide(ctx, root); err != nil {
			n.log.Debug("provide", "root", root, "err", err)
		}
	}()
}

// fetchAndExport fetches the whole DAG (every missing block asked for at
// once) and, at the same time, writes it out in order, waiting where a
// block has not arrived yet: the network and the disk work side by side.
func (n *Node) fetchAndExport(ctx context.Context, root cid.Cid, dir, name string, o GetOptions) (GetResult, error) {
	res, err := n.fetchAndExportOnce(ctx, root, dir, name, o)
	if ipld.IsNotFound(err) && ctx.Err() == nil {
		// A block the store pointed at in an exported file was gone or
		// changed when read: its entry is dropped now, so this fetches it.
		res, err = n.fetchAndExportOnce(ctx, root, dir, name, o)
	}
	return res, err
}

func (n *Node) fetchAndExportOnce(ctx context.Context, root cid.Cid, dir, name string, o GetOptions) (GetResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var ferr error // the fetch's, once fetched is closed
	fetched := make(chan struct{})
	go func() {
		ferr = n.fetch(ctx, root, o)
		if ferr != nil {
			cancel() // the export is waiting for blocks that will not come
		}
		close(fetched)
	}()
	refs := &fileRefs{n: n, files: map[string][]cid.Cid{}}
	res, err := chunker.Export(ctx, n.ex.Getter(ctx, fetched), root, dir, name, chunker.ExportOptions{
		Force: o.Force, Progress: o.Progress, Written: refs.written, Renamed: refs.renamed,
	})
	refs.flush()
	if err != nil {
		cancel()
	}
	<-fetched
	// Blocks the export did not get to write are stored now, so a get run
	// again finds them.
	if derr := n.ex.FlushDeferred(context.Background()); derr != nil && ferr == nil {
		ferr = derr
	}
	if err != nil {
		n.store.Sync()
		if ferr != nil && !errors.Is(ferr, context.Canceled) {
			return res, ferr // the cause; the export only stopped waiting
		}
		return res, err
	}
	return res, ferr
}

// fileRefs points the store at the exported file for the leaves the
// export wrote, in small batches, and tells the exchange, which held the
// leaves it fetched in memory for this (see exchange.Getter): each
// fetched byte is written once. It follows each file's rename.
type fileRefs struct {
	n     *Node
	path  string
	batch []blockstore.FileRef
	files map[string][]cid.Cid // leaves written into each file not yet renamed
	err   error
}

// refBatch is how many leaves are recorded at a time: small, as the
// exchange holds at most a few MiB of fetched leaves unstored.
const refBatch = 4

func (r *fileRefs) written(path string, c cid.Cid, off int64, size int) {
	if path != r.path {
		r.flush()
		r.path = path
	}
	r.batch = append(r.batch, blockstore.FileRef{Cid: c, Off: off, Size: size})
	r.files[path] = append(r.files[path], c)
	if len(r.batch) >= refBatch {
		r.flush()
	}
}

func (r *fileRefs) flush() {
	batch := r.batch
	r.batch = nil
	if len(batch) == 0 || r.err != nil {
		return // what is not recorded is stored by FlushDeferred
	}
	ctx := context.Background()
	if r.err = r.n.store.AddFileRefs(ctx, r.path, batch); r.err != nil {
		return
	}
	cs := make([]cid.Cid, len(batch))
	for i, f := range batch {
		cs[i] = f.Cid
	}
	r.n.ex.Persisted(ctx, cs)
}

func (r *fileRefs) renamed(from, to string) {
	r.flush()
	if r.err == nil {
		r.err = r.n.store.MoveFileRefs(context.Background(), from, to, r.files[from])
	}
	delete(r.files, from)
}

// fetch dials the given peers, then brings every block of root into the
// store; its errors say what was tried.
func (n *Node) fetch(ctx context.Context, root cid.Cid, o GetOptions) error {
	var tried []string
	reached := 0
	for _, p := range o.From {
		dctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := n.swarm.Connect(dctx, p)
		cancel()
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s (%s)", p.ID, dialError(err)))
			continue
		}
		reached++
		tried = append(tried, p.ID.String()+" (connected)")
	}
	if len(o.From) > 0 && reached == 0 && n.swarm.Routing == nil && len(n.swarm.Host.Network().Peers()) == 0 {
		if ok, _ := n.store.Has(ctx, root); !ok {
			return fmt.Errorf("get %s: could not reach any peer: tried %s", root, strings.Join(tried, "; "))
		}
	}
	err := n.ex.Fetch(ctx, root, exchange.FetchOptions{Stall: o.Stall, Report: o.Fetch})
	if err == nil {
		return n.store.Sync()
	}
	if errors.Is(err, exchange.ErrStalled) {
		where := fmt.Sprintf("%d connected peers", len(n.swarm.Host.Network().Peers()))
		if len(tried) > 0 {
			where = "tried " + strings.Join(tried, "; ") + "; " + where
		}
		if n.swarm.Routing == nil {
			where += "; DHT off"
		} else {
			where += "; asked the DHT"
		}
		// Keep what arrived: the next get resumes from there.
		n.store.Sync()
		return fmt.Errorf("get %s: %w: %v; %s", root, ErrNoPeers, err, where)
	}
	n.store.Sync()
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

// PeerInfo describes a connected peer.
type PeerInfo struct {
	ID      peer.ID
	Addr    ma.Multiaddr
	Relayed bool // the connection goes through a relay
	Inbound bool
	PeerStats
}

// Peers lists the connected peers with the bytes exchanged with each.
func (n *Node) Peers() []PeerInfo {
	stats := n.ex.Stats()
	var out []PeerInfo
	for _, c := range n.swarm.Host.Network().Conns() {
		p := c.RemotePeer()
		out = append(out, PeerInfo{
			ID:        p,
			Addr:      c.RemoteMultiaddr(),
			Relayed:   c.Stat().Limited || strings.Contains(c.RemoteMultiaddr().String(), "/p2p-circuit"),
			Inbound:   c.Stat().Direction == network.DirInbound,
			PeerStats: stats[p],
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// BitswapStat is Bitswap's own counters; see Node.Bitswap.
type BitswapStat = exchange.BitswapStat

// Bitswap returns Bitswap's counters since the network started.
func (n *Node) Bitswap() BitswapStat { return n.ex.Bitswap() }

// Traffic returns the block bytes exchanged with every peer since the
// network started.
func (n *Node) Traffic() map[peer.ID]PeerStats { return n.ex.Stats() }
