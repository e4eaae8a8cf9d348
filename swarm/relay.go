package swarm

import (
	"context"
	"math"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/proto"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
)

// Relays. A node its peers cannot dial (behind a NAT or a firewall)
// reserves a slot on a relay, and its addresses through that relay go in
// its tickets; a getter dials it through the relay, then both try to
// punch a hole to each other (DCUtR) and move to the direct connection.
// Where no hole can be punched (a symmetric NAT on both sides) the
// transfer stays on the relay, so the relay must allow it: go-libp2p's
// default limits (2 minutes, 128 KiB a connection) stop any file, so a
// pollen relay's limits are its operator's (RelayLimits).

// RelayLimits is what a relay service allows. A zero Duration or Data
// is no limit on that; with neither, relayed connections are not
// "limited" and carry every protocol, Bitswap included.
type RelayLimits struct {
	// Duration resets a relayed connection after this long.
	Duration time.Duration
	// Data resets a relayed connection after this many bytes each way.
	Data int64
	// Reservations is how many peers may hold a slot at once; 0 is
	// go-libp2p's default (128).
	Reservations int
	// Circuits is how many relayed connections a peer may have open; 0 is
	// go-libp2p's default (16).
	Circuits int
}

// resources turns the limits into go-libp2p's.
func (l RelayLimits) resources() relayv2.Resources {
	rc := relayv2.DefaultResources()
	rc.Limit = nil
	if l.Duration > 0 || l.Data > 0 {
		// go-libp2p applies both or neither: the one not set is made too
		// large to matter.
		rc.Limit = &relayv2.RelayLimit{Duration: l.Duration, Data: l.Data}
		if l.Duration <= 0 {
			rc.Limit.Duration = math.MaxUint32 * time.Second // what the wire carries
		}
		if l.Data <= 0 {
			rc.Limit.Data = math.MaxInt64
		}
	}
	if l.Reservations > 0 {
		rc.MaxReservations = l.Reservations
	}
	if l.Circuits > 0 {
		rc.MaxCircuits = l.Circuits
	}
	return rc
}

// How autorelay looks for relays: a single candidate is enough (go-libp2p
// waits for four, or three minutes, tuned for the public network's
// thousands of relays; a pollen user may name one), and the candidates
// are looked at again often, since a relay may be the only way in.
const (
	relayCandidateEvery = 10 * time.Second
	relayBackoff        = time.Minute
)

// relayOptions are the libp2p options for cfg's relays: the relay
// service when cfg asks for one, and a client that reserves slots on
// the relays it knows of when this node is not reachable.
func relayOptions(cfg Config, s *Swarm) []libp2p.Option {
	opts := []libp2p.Option{
		libp2p.EnableRelay(),
		libp2p.EnableAutoRelayWithPeerSource(s.relayCandidates,
			autorelay.WithMinCandidates(1),
			autorelay.WithBootDelay(0),
			autorelay.WithMinInterval(relayCandidateEvery),
			autorelay.WithBackoff(relayBackoff),
		),
	}
	if cfg.RelayService != nil {
		// An operator who runs a relay says the node is reachable; waiting
		// for AutoNAT to agree would leave it idle for its first minute.
		opts = append(opts,
			libp2p.EnableRelayService(relayv2.WithResources(cfg.RelayService.resources())),
			libp2p.ForceReachabilityPublic(),
		)
	}
	return opts
}

// relayCandidates is autorelay's peer source: the relays named in the
// config, then the bootstrap peers, then every connected peer that says
// it runs a relay service.
func (s *Swarm) relayCandidates(ctx context.Context, n int) <-chan peer.AddrInfo {
	out := make(chan peer.AddrInfo, n)
	defer close(out)
	select {
	case <-s.ready:
	case <-ctx.Done():
		return out
	}
	seen := map[peer.ID]bool{}
	add := func(p peer.AddrInfo) bool {
		if seen[p.ID] || p.ID == s.Host.ID() {
			return true
		}
		seen[p.ID] = true
		out <- p
		return len(seen) < n
	}
	for _, p := range append(append([]peer.AddrInfo(nil), s.relays...), s.bootstrap...) {
		if !add(p) {
			return out
		}
	}
	for _, id := range s.Host.Network().Peers() {
		if ok, _ := s.Host.Peerstore().SupportsProtocols(id, proto.ProtoIDv2Hop); len(ok) == 0 {
			continue
		}
		if !add(s.Host.Peerstore().PeerInfo(id)) {
			return out
		}
	}
	return out
}
