package swarm

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/network"
	ma "github.com/multiformats/go-multiaddr"
)

func TestMappingsTellTheNAT(t *testing.T) {
	local := ma.StringCast("/ip4/192.168.1.2/tcp/4011")
	relay, boot := ma.StringCast("/ip4/192.0.0.129/tcp/4011"), ma.StringCast("/ip4/192.0.0.130/tcp/4011")
	seen := func(port string) ma.Multiaddr { return ma.StringCast("/ip4/192.0.0.131/tcp/" + port) }
	for _, tc := range []struct {
		name string
		add  func(m *mappings)
		want network.NATDeviceType
	}{
		{"one observer cannot tell", func(m *mappings) {
			m.add(local, relay, seen("4011"))
		}, network.NATDeviceTypeUnknown},
		{"one port for two destinations: cone", func(m *mappings) {
			m.add(local, relay, seen("4011"))
			m.add(local, boot, seen("4011"))
		}, network.NATDeviceTypeEndpointIndependent},
		{"a port per destination: symmetric", func(m *mappings) {
			m.add(local, relay, seen("50123"))
			m.add(local, boot, seen("61001"))
		}, network.NATDeviceTypeEndpointDependent},
		{"a public node is behind no NAT", func(m *mappings) {
			pub := ma.StringCast("/ip4/192.0.0.131/tcp/4011")
			m.add(pub, relay, seen("4011"))
			m.add(pub, boot, seen("4011"))
		}, network.NATDeviceTypeUnknown},
		{"through a relay says nothing", func(m *mappings) {
			circuit := ma.StringCast("/ip4/192.0.0.129/tcp/4011/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/p2p-circuit")
			m.add(local, circuit, seen("4011"))
			m.add(local, boot, seen("4011"))
		}, network.NATDeviceTypeUnknown},
		{"private observers are not the internet", func(m *mappings) {
			m.add(local, ma.StringCast("/ip4/192.168.1.7/tcp/4011"), seen("4011"))
			m.add(local, ma.StringCast("/ip4/192.168.1.8/tcp/4011"), seen("4011"))
		}, network.NATDeviceTypeUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m mappings
			tc.add(&m)
			if got := m.kind("tcp"); got != tc.want {
				t.Errorf("tcp: %v, want %v", got, tc.want)
			}
			if got := m.kind("udp"); got != network.NATDeviceTypeUnknown {
				t.Errorf("udp: %v, want unknown (only TCP was seen)", got)
			}
		})
	}
}

// TestMappingsGuessAcrossTransports: one peer seen over TCP and another
// over QUIC, on the same local port number.
func TestMappingsGuessAcrossTransports(t *testing.T) {
	relay, boot := ma.StringCast("/ip4/192.0.0.129/tcp/4011"), ma.StringCast("/ip4/192.0.0.130/udp/4011/quic-v1")
	tcp, udp := ma.StringCast("/ip4/192.168.1.2/tcp/4011"), ma.StringCast("/ip4/192.168.1.2/udp/4011/quic-v1")
	for _, tc := range []struct {
		name             string
		tcpSeen, udpSeen string
		want             network.NATDeviceType
	}{
		{"the port kept for both: cone", "4011", "4011", network.NATDeviceTypeEndpointIndependent},
		{"a new port for each: symmetric", "50123", "61001", network.NATDeviceTypeEndpointDependent},
		{"kept for one only: cannot tell", "4011", "61001", network.NATDeviceTypeUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m mappings
			m.add(tcp, relay, ma.StringCast("/ip4/192.0.0.131/tcp/"+tc.tcpSeen))
			m.add(udp, boot, ma.StringCast("/ip4/192.0.0.131/udp/"+tc.udpSeen+"/quic-v1"))
			if m.kind("tcp") != network.NATDeviceTypeUnknown || m.kind("udp") != network.NATDeviceTypeUnknown {
				t.Fatal("one observer a transport judged a transport")
			}
			if got := m.guess(); got != tc.want {
				t.Errorf("guess %v, want %v", got, tc.want)
			}
		})
	}
}
