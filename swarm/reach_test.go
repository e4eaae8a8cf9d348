package swarm

import (
	"strings"
	"testing"

	"github.com/libp2p/go-libp2p/core/network"
	ma "github.com/multiformats/go-multiaddr"
)

func TestReachKind(t *testing.T) {
	addr := []ma.Multiaddr{ma.StringCast("/ip4/192.0.0.131/tcp/4011")}
	const (
		cone = network.NATDeviceTypeEndpointIndependent
		sym  = network.NATDeviceTypeEndpointDependent
	)
	for _, tc := range []struct {
		name    string
		r       Reach
		want    ReachKind
		summary string
	}{
		{"nothing known yet", Reach{}, ReachUnknown, "unknown: "},
		{"a NAT seen but nobody dialled back", Reach{NATTCP: cone}, ReachUnknown, "unknown: "},
		{"AutoNAT v1 public", Reach{Reachability: network.ReachabilityPublic}, ReachPublic, "public: "},
		{"v1 public wins over a NAT guess", Reach{Reachability: network.ReachabilityPublic, NATUDP: sym}, ReachPublic, "public: "},
		{"private, cone", Reach{Reachability: network.ReachabilityPrivate, NATTCP: cone, NATUDP: cone}, ReachCone, "behind a cone NAT"},
		{"private, symmetric", Reach{Reachability: network.ReachabilityPrivate, NATTCP: sym, NATUDP: sym}, ReachSymmetric, "behind a symmetric NAT"},
		{"UDP decides when known", Reach{Reachability: network.ReachabilityPrivate, NATTCP: cone, NATUDP: sym}, ReachSymmetric, "behind a symmetric NAT"},
		{"TCP when UDP is not known", Reach{Reachability: network.ReachabilityPrivate, NATTCP: sym}, ReachSymmetric, "behind a symmetric NAT"},
		{"private, NAT not told", Reach{Reachability: network.ReachabilityPrivate}, ReachPrivate, "not reachable directly"},
		{"v2 alone: one address reachable", Reach{Reachable: addr}, ReachPublic, "public: "},
		{"a port mapped: v2 confirms it, v1 tried others", Reach{Reachability: network.ReachabilityPrivate, Reachable: addr, NATTCP: cone}, ReachPublic, "public: "},
		{"v2 alone: every address refuted, cone", Reach{Unreachable: addr, NATUDP: cone}, ReachCone, "behind a cone NAT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.Kind(); got != tc.want {
				t.Errorf("Kind() = %q, want %q", got, tc.want)
			}
			if got := tc.r.Summary(); !strings.HasPrefix(got, tc.summary) {
				t.Errorf("Summary() = %q, want it to start %q", got, tc.summary)
			}
		})
	}
}
