package swarm

import (
	"sync"

	"github.com/libp2p/go-libp2p/core/network"
	basichost "github.com/libp2p/go-libp2p/p2p/host/basic"
	ma "github.com/multiformats/go-multiaddr"
)

// natManager keeps go-libp2p's port mapper (UPnP or NAT-PMP on the
// home's router), which the host owns and hides, so that the node can
// say what it mapped.
type natManager struct {
	mu sync.Mutex
	m  basichost.NATManager
}

// start is the host's NATManager constructor.
func (n *natManager) start(nw network.Network) basichost.NATManager {
	m := basichost.NewNATManager(nw)
	n.mu.Lock()
	n.m = m
	n.mu.Unlock()
	return m
}

// PortMapping is what port mapping did.
type PortMapping struct {
	// On is false when the node was told not to map ports (Offline).
	On bool
	// Gateway is whether a router that maps ports (UPnP, NAT-PMP)
	// answered; it takes a few seconds after the start.
	Gateway bool
	// Mapped pairs each listen address the router mapped with the
	// public address it gave it.
	Mapped []Mapped
}

// Mapped is one listen address and where the router maps it.
type Mapped struct {
	Listen, External ma.Multiaddr
}

// PortMapping says what port mapping did for each listen address.
func (s *Swarm) PortMapping() PortMapping {
	s.natmgr.mu.Lock()
	m := s.natmgr.m
	s.natmgr.mu.Unlock()
	if m == nil {
		return PortMapping{}
	}
	pm := PortMapping{On: true, Gateway: m.HasDiscoveredNAT()}
	if !pm.Gateway {
		return pm
	}
	for _, a := range s.Host.Network().ListenAddresses() {
		if ext := m.GetMapping(a); ext != nil {
			pm.Mapped = append(pm.Mapped, Mapped{Listen: a, External: ext})
		}
	}
	return pm
}
