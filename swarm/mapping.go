package swarm

import (
	"strings"

	"github.com/libp2p/go-libp2p/core/network"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// mappings tell a cone NAT from a symmetric one by what peers at
// different public addresses saw of one local port (identify tells each
// peer's view): one public port for all of them is a NAT that maps a
// port once for every destination, which a hole can be punched
// through; a port per destination is a symmetric NAT. go-libp2p makes
// the same guess, but only once four peers agree; a home with two
// public peers in sight should know as well.
type mappings struct {
	// seen maps a local "transport port" to what each observer (by IP)
	// saw it as.
	seen map[string]map[string]string
}

// Bounds on what is kept: enough to judge, little for a peer to fill.
const (
	maxMappedPorts = 16
	maxObservers   = 16
)

// thin returns a TCP or UDP address's IP, transport ("tcp", "udp") and
// port.
func thin(a ma.Multiaddr) (ip, transport, port string, ok bool) {
	for _, c := range a {
		switch c.Code() {
		case ma.P_IP4, ma.P_IP6:
			if ip != "" {
				return "", "", "", false
			}
			ip = c.Value()
		case ma.P_TCP, ma.P_UDP:
			if transport != "" {
				return "", "", "", false
			}
			transport, port = c.Protocol().Name, c.Value()
		case ma.P_CIRCUIT:
			return "", "", "", false
		}
	}
	return ip, transport, port, ip != "" && transport != ""
}

// add records that a peer at remote saw this node's local address as
// observed.
func (m *mappings) add(local, remote, observed ma.Multiaddr) {
	if local == nil || remote == nil || observed == nil || !manet.IsPublicAddr(observed) || !manet.IsPublicAddr(remote) {
		return
	}
	lip, ltr, lport, ok1 := thin(local)
	rip, _, _, ok2 := thin(remote)
	oip, otr, oport, ok3 := thin(observed)
	if !ok1 || !ok2 || !ok3 || ltr != otr || lip == oip {
		return // not behind a NAT, as far as this peer sees
	}
	if m.seen == nil {
		m.seen = map[string]map[string]string{}
	}
	key := ltr + " " + lport
	obs := m.seen[key]
	if obs == nil {
		if len(m.seen) >= maxMappedPorts {
			return
		}
		obs = map[string]string{}
		m.seen[key] = obs
	}
	if _, ok := obs[rip]; !ok && len(obs) >= maxObservers {
		return
	}
	obs[rip] = oip + " " + oport
}

// kind judges the NAT for transport ("tcp" or "udp"): unknown until two
// observers saw one local port.
func (m *mappings) kind(transport string) network.NATDeviceType {
	out := network.NATDeviceTypeUnknown
	for key, obs := range m.seen {
		if len(obs) < 2 || key[:len(transport)] != transport {
			continue
		}
		first := ""
		for _, o := range obs {
			if first == "" {
				first = o
			} else if o != first {
				return network.NATDeviceTypeEndpointDependent
			}
		}
		out = network.NATDeviceTypeEndpointIndependent
	}
	return out
}

// guess judges the NAT from one local port number seen over both
// transports, when no transport alone has two observers (a node that
// reached one peer over TCP and another over QUIC): a NAT that kept the
// port for every observer maps once for all destinations; one that gave
// a new port to each, and never the local one, maps per destination.
// Less sure than kind (a cone NAT may move ports too), so only a
// fallback.
func (m *mappings) guess() network.NATDeviceType {
	byPort := map[string][]string{} // local port → "observer observed-port"
	for key, obs := range m.seen {
		_, port, _ := strings.Cut(key, " ")
		for observer, seen := range obs {
			_, oport, _ := strings.Cut(seen, " ")
			byPort[port] = append(byPort[port], observer+" "+oport)
		}
	}
	out := network.NATDeviceTypeUnknown
	for port, seen := range byPort {
		observers, kept, ports := map[string]bool{}, 0, map[string]bool{}
		for _, s := range seen {
			observer, oport, _ := strings.Cut(s, " ")
			observers[observer] = true
			ports[oport] = true
			if oport == port {
				kept++
			}
		}
		switch {
		case len(observers) < 2:
		case kept == len(seen):
			out = network.NATDeviceTypeEndpointIndependent
		case kept == 0 && len(ports) == len(seen):
			return network.NATDeviceTypeEndpointDependent
		}
	}
	return out
}
