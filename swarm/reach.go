package swarm

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	ma "github.com/multiformats/go-multiaddr"
)

// Reach is what this node has learnt of how others can reach it, from
// go-libp2p's events: AutoNAT v1 for the node as a whole, AutoNAT v2
// for each address, identify's guess of the NAT's kind, and autorelay's
// reservations.
type Reach struct {
	// Reachability is AutoNAT's verdict on the node: public, private or
	// unknown (too early, or no peer to ask).
	Reachability network.Reachability
	// Reachable and Unreachable are the addresses AutoNAT v2 confirmed
	// or refuted, one by one.
	Reachable, Unreachable []ma.Multiaddr
	// NATTCP and NATUDP are the kind of NAT identify made out, per
	// transport: endpoint independent (a cone NAT, which hole punching
	// gets through) or dependent (symmetric, which it does not).
	NATTCP, NATUDP network.NATDeviceType
	// RelayAddrs are this node's addresses through the relays it holds a
	// slot on.
	RelayAddrs []ma.Multiaddr
	// Changed is when any of it last changed.
	Changed time.Time
}

// ReachKind is the verdict on a node's reachability, in the words a
// person uses for it.
type ReachKind string

const (
	// ReachPublic: peers can dial the node directly.
	ReachPublic ReachKind = "public"
	// ReachCone: behind a NAT that maps a port once for every
	// destination, which hole punching gets through.
	ReachCone ReachKind = "cone-nat"
	// ReachSymmetric: behind a NAT that maps a port per destination,
	// which hole punching does not get through.
	ReachSymmetric ReachKind = "symmetric-nat"
	// ReachPrivate: not dialable (a NAT of a kind not yet told, or a
	// firewall).
	ReachPrivate ReachKind = "private"
	// ReachUnknown: no peer has tried to dial the node back yet.
	ReachUnknown ReachKind = "unknown"
)

// NAT is the kind of NAT that matters for hole punching: UDP's when
// known (QUIC is what hole punching succeeds with most), else TCP's.
func (r Reach) NAT() network.NATDeviceType {
	if r.NATUDP != network.NATDeviceTypeUnknown {
		return r.NATUDP
	}
	return r.NATTCP
}

// Kind judges Reach: an address AutoNAT v2 confirmed, or AutoNAT v1's
// verdict on the node, makes it public (v1 judges by the addresses it
// tried, and a port the router mapped may not be among them); v1's
// private, or every address v2 refuted, makes it private, named by its
// NAT's kind.
func (r Reach) Kind() ReachKind {
	private := false
	switch {
	case r.Reachability == network.ReachabilityPublic, len(r.Reachable) > 0:
		return ReachPublic
	case r.Reachability == network.ReachabilityPrivate:
		private = true
	case len(r.Unreachable) > 0:
		private = true
	}
	if !private {
		return ReachUnknown
	}
	switch r.NAT() {
	case network.NATDeviceTypeEndpointDependent:
		return ReachSymmetric
	case network.NATDeviceTypeEndpointIndependent:
		return ReachCone
	}
	return ReachPrivate
}

// Summary says in plain words what Reach means for a peer that wants to
// dial this node.
func (r Reach) Summary() string {
	switch r.Kind() {
	case ReachPublic:
		if r.Reachability != network.ReachabilityPublic {
			// AutoNAT v2 checks each address; v1 judges the node by those
			// it tried, and a port the router mapped may not be among them.
			return "public: peers can dial this node directly at an address AutoNAT v2 confirmed"
		}
		return "public: peers can dial this node directly"
	case ReachSymmetric:
		return "behind a symmetric NAT: peers reach this node through a relay, or directly when they are public"
	case ReachCone:
		return "behind a cone NAT: peers reach this node through a relay, then directly once a hole is punched"
	case ReachPrivate:
		return "not reachable directly (a NAT or a firewall): peers reach this node through a relay"
	}
	return "unknown: no peer has tried to dial this node back yet"
}

// reach follows the events that make up Reach.
type reach struct {
	mu       sync.Mutex
	r        Reach
	mappings mappings      // this node's own guess of the NAT's kind
	changed  chan struct{} // closed and replaced at each change
}

// watchReach keeps s.reach up to date until ctx ends.
func (s *Swarm) watchReach(ctx context.Context) error {
	sub, err := s.Host.EventBus().Subscribe([]any{
		new(event.EvtLocalReachabilityChanged),
		new(event.EvtHostReachableAddrsChanged),
		new(event.EvtNATDeviceTypeChanged),
		new(event.EvtAutoRelayAddrsUpdated),
		new(event.EvtPeerIdentificationCompleted),
		new(event.EvtLocalAddressesUpdated), // a port mapped: only the channel tells
	})
	if err != nil {
		return err
	}
	s.reach.changed = make(chan struct{})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer sub.Close()
		for {
			var ev any
			select {
			case <-ctx.Done():
				return
			case ev = <-sub.Out():
			}
			s.reach.mu.Lock()
			r := &s.reach.r
			switch ev := ev.(type) {
			case event.EvtLocalReachabilityChanged:
				r.Reachability = ev.Reachability
			case event.EvtHostReachableAddrsChanged:
				r.Reachable, r.Unreachable = slices.Clone(ev.Reachable), slices.Clone(ev.Unreachable)
			case event.EvtNATDeviceTypeChanged:
				if ev.TransportProtocol == network.NATTransportUDP {
					r.NATUDP = ev.NatDeviceType
				} else {
					r.NATTCP = ev.NatDeviceType
				}
			case event.EvtAutoRelayAddrsUpdated:
				r.RelayAddrs = slices.Clone(ev.RelayAddrs)
			case event.EvtPeerIdentificationCompleted:
				if ev.Conn == nil {
					break
				}
				m := &s.reach.mappings
				tcp, udp, guess := m.kind("tcp"), m.kind("udp"), m.guess()
				m.add(ev.Conn.LocalMultiaddr(), ev.Conn.RemoteMultiaddr(), ev.ObservedAddr)
				if m.kind("tcp") == tcp && m.kind("udp") == udp && m.guess() == guess {
					s.reach.mu.Unlock()
					continue // no news
				}
			}
			r.Changed = time.Now()
			close(s.reach.changed)
			s.reach.changed = make(chan struct{})
			s.reach.mu.Unlock()
		}
	}()
	return nil
}

// Reach returns what the node knows of its reachability now, and a
// channel closed when that changes.
func (s *Swarm) Reach() (Reach, <-chan struct{}) {
	s.reach.mu.Lock()
	defer s.reach.mu.Unlock()
	r := s.reach.r
	// go-libp2p's verdict on the NAT when it has one (four peers agree),
	// else this node's own, per transport, else its guess over both.
	if r.NATTCP == network.NATDeviceTypeUnknown {
		r.NATTCP = s.reach.mappings.kind("tcp")
	}
	if r.NATUDP == network.NATDeviceTypeUnknown {
		r.NATUDP = s.reach.mappings.kind("udp")
	}
	if r.NATTCP == network.NATDeviceTypeUnknown && r.NATUDP == network.NATDeviceTypeUnknown {
		r.NATUDP = s.reach.mappings.guess()
	}
	r.Reachable, r.Unreachable = slices.Clone(r.Reachable), slices.Clone(r.Unreachable)
	r.RelayAddrs = slices.Clone(r.RelayAddrs)
	return r, s.reach.changed
}
