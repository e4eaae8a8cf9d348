package swarm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/pnet"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	noise "github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/quicreuse"
	ma "github.com/multiformats/go-multiaddr"
)

// DefaultPort is where pollen listens unless told otherwise (TCP and
// QUIC), so a firewall can be opened for it. When it is taken, pollen
// listens on a free port instead.
const DefaultPort = 4011

// mdnsService is the mDNS service name pollen announces and looks for.
const mdnsService = "_pollen-discovery._udp"

// Limits of the connection manager: trim back to low when above high.
const (
	connLow  = 100
	connHigh = 400
)

// Config configures New. The zero value listens on DefaultPort on every
// interface with an ephemeral identity, runs mDNS and joins the public
// IPFS DHT.
type Config struct {
	// Identity is the node's key (see LoadIdentity); nil makes a new one.
	Identity crypto.PrivKey
	// Listen overrides the listen addresses.
	Listen []ma.Multiaddr
	// Offline switches off the DHT and NAT port mapping: only peers dialled
	// directly (tickets, --from) or found by mDNS are used.
	Offline bool
	// NoMDNS switches off LAN discovery.
	NoMDNS bool
	// Bootstrap peers for the DHT; nil means the public IPFS bootstrap
	// peers. When set, the DHT runs in server mode and accepts private and
	// loopback addresses: a private DHT among the given peers.
	Bootstrap []peer.AddrInfo
	// Relays are relays to reserve a slot on when this node cannot be
	// dialled; the bootstrap peers and connected peers that run a relay
	// service are tried too.
	Relays []peer.AddrInfo
	// RelayService, when set, makes this node a relay for others, with
	// these limits. Only a node others can dial should run one.
	RelayService *RelayLimits
	// Limits are the upload and download rates (see Limits).
	Limits Limits
	// Shaped makes the rates changeable while the node runs (SetLimits)
	// even when it starts with none: every connection then passes the
	// shaper. A node with no limit and not Shaped leaves its sockets bare.
	Shaped bool
	// PSK, when set, makes the node part of a private network: it
	// connects only to nodes holding the same key, over TCP alone (see
	// LoadPSK). Without Bootstrap peers its DHT is off: the public one is
	// out of reach.
	PSK pnet.PSK
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// Swarm is a running libp2p host with its discovery services.
type Swarm struct {
	Host host.Host
	// Routing finds and announces providers; nil when offline.
	Routing routing.Routing

	log       *slog.Logger
	gater     *gater
	relays    []peer.AddrInfo
	bootstrap []peer.AddrInfo
	ready     chan struct{} // closed once Host is set
	shaper    *shaper
	reach     reach
	punched   punched
	natmgr    natManager
	dht       *dht.IpfsDHT
	mdns      mdns.Service
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// DefaultListen returns the addresses used when Config.Listen is empty.
func DefaultListen() []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, s := range []string{
		"/ip4/0.0.0.0/tcp/%d", "/ip4/0.0.0.0/udp/%d/quic-v1",
		"/ip6/::/tcp/%d", "/ip6/::/udp/%d/quic-v1",
	} {
		out = append(out, ma.StringCast(fmt.Sprintf(s, DefaultPort)))
	}
	return out
}

// New starts the host and its discovery.
func New(cfg Config) (*Swarm, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	var sh *shaper
	if cfg.Shaped || cfg.Limits != (Limits{}) {
		sh = newShaper(cfg.Limits)
	}
	opts := []libp2p.Option{
		libp2p.NoListenAddrs, // listened on below, one address at a time
		// TLS first: it is the faster handshake and what Kubo prefers.
		security(sh),
		libp2p.Security(noise.ID, newShapedNoise(sh)),
		Muxer(),
		libp2p.EnableNATService(),
		libp2p.EnableAutoNATv2(),
		libp2p.UserAgent("pollen"),
	}
	g := &gater{blocked: map[peer.ID]bool{}}
	s := &Swarm{log: cfg.Logger, gater: g, relays: cfg.Relays, bootstrap: cfg.Bootstrap, ready: make(chan struct{}), shaper: sh}
	if cfg.PSK != nil {
		opts = append(opts, pnetOptions(cfg.PSK)...)
		if len(cfg.Listen) == 0 {
			cfg.Listen = DefaultListen()
		}
		if cfg.Listen = tcpOnly(cfg.Listen); len(cfg.Listen) == 0 {
			return nil, errors.New("swarm: a private network (swarm.key) listens on TCP only, and no TCP address was given")
		}
	} else {
		opts = append(opts, libp2p.DefaultTransports)
	}
	if sh != nil {
		// QUIC's socket, shaped.
		opts = append(opts, libp2p.QUICReuse(quicreuse.NewConnManager, quicreuse.OverrideListenUDP(
			func(network string, laddr *net.UDPAddr) (net.PacketConn, error) {
				c, err := net.ListenUDP(network, laddr)
				if err != nil {
					return nil, err
				}
				return newShapedUDP(c, sh), nil
			})))
	}
	s.punched.s = s
	opts = append(opts, libp2p.EnableHolePunching(holepunch.WithTracer(&s.punched)))
	opts = append(opts, relayOptions(cfg, s)...)
	if cfg.Identity != nil {
		opts = append(opts, libp2p.Identity(cfg.Identity))
	}
	if !cfg.Offline {
		opts = append(opts, libp2p.NATManager(s.natmgr.start))
	}
	rm, err := resourceManager()
	if err != nil {
		return nil, fmt.Errorf("swarm: %w", err)
	}
	cm, err := connmgr.NewConnManager(connLow, connHigh, connmgr.WithGracePeriod(time.Minute))
	if err != nil {
		return nil, fmt.Errorf("swarm: %w", err)
	}
	opts = append(opts, libp2p.ResourceManager(rm), libp2p.ConnectionManager(cm), libp2p.ConnectionGater(g))
	h, err := libp2p.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("swarm: %w", err)
	}
	s.Host = h
	close(s.ready)
	if sh != nil {
		h.Network().Notify(&shaperNotifiee{s: sh})
	}
	if err := s.listen(cfg.Listen); err != nil {
		h.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if err := s.watchReach(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("swarm: %w", err)
	}
	// In a private network the public DHT is out of reach: a DHT of its
	// own needs bootstrap peers.
	if !cfg.Offline && (cfg.PSK == nil || cfg.Bootstrap != nil) {
		if err := s.startDHT(ctx, cfg.Bootstrap); err != nil {
			s.Close()
			return nil, err
		}
	}
	if !cfg.NoMDNS {
		s.mdns = mdns.NewMdnsService(h, mdnsService, (*mdnsNotifee)(s))
		if err := s.mdns.Start(); err != nil {
			s.log.Warn("mDNS discovery off", "err", err)
			s.mdns = nil
		}
	}
	return s, nil
}

// listen opens each address; one on DefaultPort that is taken falls back
// to a free port. It fails only when nothing could be opened.
func (s *Swarm) listen(addrs []ma.Multiaddr) error {
	if len(addrs) == 0 {
		addrs = DefaultListen()
	}
	var errs []error
	for _, a := range addrs {
		err := s.Host.Network().Listen(a)
		if err != nil && strings.Contains(a.String(), fmt.Sprintf("/%d", DefaultPort)) {
			free := ma.StringCast(strings.Replace(a.String(), fmt.Sprintf("/%d", DefaultPort), "/0", 1))
			s.log.Info("default port taken, using a free one", "addr", a, "err", err)
			err = s.Host.Network().Listen(free)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("listen on %s: %w", a, err))
		}
	}
	if len(errs) == len(addrs) {
		return fmt.Errorf("swarm: %w", errors.Join(errs...))
	}
	for _, err := range errs {
		s.log.Warn("not listening", "err", err)
	}
	return nil
}

func (s *Swarm) startDHT(ctx context.Context, bootstrap []peer.AddrInfo) error {
	opts := []dht.Option{dht.Mode(dht.ModeAuto)}
	if bootstrap == nil {
		opts = append(opts, dht.BootstrapPeers(dht.GetDefaultBootstrapPeerAddrInfos()...))
	} else {
		opts = append(opts,
			dht.BootstrapPeers(bootstrap...),
			dht.Mode(dht.ModeServer),
			// Every peer of a DHT of one's own is a member, wherever it is:
			// kad-dht's "private" filters take only peers reached without a
			// router between, which leaves a node behind a NAT, whose
			// bootstrap peer is on the internet, with an empty table.
			dht.QueryFilter(func(any, peer.AddrInfo) bool { return true }),
			dht.RoutingTableFilter(func(any, peer.ID) bool { return true }),
			dht.AddressFilter(nil),
		)
	}
	d, err := dht.New(s.Host, opts...)
	if err != nil {
		return fmt.Errorf("swarm: DHT: %w", err)
	}
	s.dht, s.Routing = d, d
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for _, p := range bootstrap {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if err := s.Host.Connect(cctx, p); err != nil {
				s.log.Debug("bootstrap peer unreachable", "peer", p.ID, "err", err)
			}
			cancel()
		}
		if err := d.Bootstrap(ctx); err != nil {
			s.log.Debug("DHT bootstrap", "err", err)
		}
	}()
	return nil
}

// resourceManager scales go-libp2p's default limits to this machine and
// says so explicitly, rather than relying on the implicit defaults.
func resourceManager() (network.ResourceManager, error) {
	scaling := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&scaling)
	limits := scaling.AutoScale()
	return rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(limits))
}

// Addrs returns the node's dialable addresses, each ending in /p2p/ID.
func (s *Swarm) Addrs() []ma.Multiaddr {
	info := peer.AddrInfo{ID: s.Host.ID(), Addrs: s.Host.Addrs()}
	out, _ := peer.AddrInfoToP2pAddrs(&info)
	return out
}

// AddrInfo is this node's ID and addresses, as a ticket carries them:
// the host's, and those through relays it holds a slot on (the host
// lists them only once AutoNAT says it is private, and a moment after
// autorelay says they are there).
func (s *Swarm) AddrInfo() peer.AddrInfo {
	r, _ := s.Reach()
	return peer.AddrInfo{ID: s.Host.ID(), Addrs: ma.Unique(append(s.Host.Addrs(), r.RelayAddrs...))}
}

// Connect dials p (each of its addresses), within ctx.
func (s *Swarm) Connect(ctx context.Context, p peer.AddrInfo) error {
	if p.ID == s.Host.ID() {
		return nil
	}
	// Two peers that dial each other at the same moment from their
	// listening ports (mDNS finds both at once) can meet in one TCP
	// simultaneous open, where both sides start TLS as the client and both
	// dials fail. Dial again after a random pause, unless the other side's
	// dial got through meanwhile.
	s.readyToPunch(ctx, p)
	var err error
	dctx := ctx
	for try := range dialTries {
		if err = s.Host.Connect(dctx, p); err == nil {
			return nil
		}
		if s.Host.Network().Connectedness(p.ID) == network.Connected {
			return nil
		}
		if try == dialTries-1 {
			break
		}
		select {
		case <-time.After(time.Duration(50+rand.IntN(250)) * time.Millisecond):
		case <-ctx.Done():
			return fmt.Errorf("connect to %s: %w", p.ID, err)
		}
		dctx = network.WithForceDirectDial(ctx, "dial again after a failed simultaneous open") // past the dial backoff
	}
	return fmt.Errorf("connect to %s: %w", p.ID, err)
}

const dialTries = 3

// Find connects to p: at the addresses given, else, when the DHT runs,
// at those it finds for p's ID (a ticket outlives its addresses: the
// sharer may have moved to another network or relay since).
func (s *Swarm) Find(ctx context.Context, p peer.AddrInfo) error {
	err := s.Connect(ctx, p)
	if err == nil || s.dht == nil || ctx.Err() != nil {
		return err
	}
	found, ferr := s.dht.FindPeer(ctx, p.ID)
	if ferr != nil || len(found.Addrs) == 0 {
		return err
	}
	if cerr := s.Connect(ctx, found); cerr != nil {
		return fmt.Errorf("%w; at the addresses the DHT gave: %v", err, cerr)
	}
	return nil
}

// Close stops discovery and the host.
func (s *Swarm) Close() error {
	if s.cancel != nil {
		s.cancel()
	}
	if s.mdns != nil {
		s.mdns.Close()
	}
	var err error
	if s.dht != nil {
		err = s.dht.Close()
	}
	s.wg.Wait()
	if herr := s.Host.Close(); err == nil {
		err = herr
	}
	return err
}

// mdnsNotifee connects to the pollen peers mDNS finds on the LAN.
type mdnsNotifee Swarm

func (n *mdnsNotifee) HandlePeerFound(p peer.AddrInfo) {
	s := (*Swarm)(n)
	if p.ID == s.Host.ID() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Connect(ctx, p); err != nil {
		s.log.Debug("mDNS peer unreachable", "peer", p.ID, "err", err)
	}
}
