package pollen

import (
	"strings"
	"testing"
)

func TestJudgeContent(t *testing.T) {
	direct := Holder{ID: "A", Found: []string{foundTicket}, Connected: true, Conn: ConnDirect}
	punched := Holder{ID: "B", Found: []string{foundDHT}, Connected: true, Conn: ConnHolePunched}
	relayed := Holder{ID: "R", Found: []string{foundTicket}, Connected: true, Conn: ConnRelayed, Via: "relay"}
	gone := Holder{ID: "G", Found: []string{foundTicket}, Error: "all dials failed: connection refused"}
	rate := func(h Holder, r float64) Holder { h.Rate = r; return h }
	running := &TransferState{Done: 1, Total: 10}
	for _, tc := range []struct {
		name  string
		c     ContentHealth
		self  ReachKind
		dhtOn bool
		want  ContentVerdict
		why   string
	}{
		{"all here", ContentHealth{Here: true}, ReachUnknown, false, VerdictHere, "nothing to fetch"},
		{"here, yet a get runs: judge it", ContentHealth{Here: true, Transfer: running, Holders: []Holder{direct}}, ReachPublic, true, VerdictOK, "1 holder reachable directly"},
		{"bare CID, DHT off", ContentHealth{}, ReachUnknown, false, VerdictNoHolders, "with the DHT off"},
		{"ticket without a peer, DHT on", ContentHealth{Ticket: true}, ReachPublic, true, VerdictNoHolders, "the ticket names no peer and no peer announced it"},
		{"nobody announced it", ContentHealth{}, ReachPublic, true, VerdictNoHolders, "no peer announced it on the DHT"},
		{"holders unreachable", ContentHealth{Holders: []Holder{gone}}, ReachCone, true, VerdictUnreachable, "1 holder found, none could be reached: all dials failed"},
		{"this node holds it", ContentHealth{Holders: []Holder{{ID: "me", Self: true}}}, ReachPublic, true, VerdictOK, "1 holder reachable directly"},
		{"direct", ContentHealth{Holders: []Holder{direct, gone}}, ReachPublic, true, VerdictOK, "1 holder reachable directly"},
		{"hole punched counts as direct", ContentHealth{Holders: []Holder{punched}}, ReachCone, true, VerdictOK, "1 holder reachable directly"},
		{"relayed only, symmetric here", ContentHealth{Holders: []Holder{relayed, gone}}, ReachSymmetric, true, VerdictRelayedOnly, "symmetric NAT, so no hole can be punched"},
		{"relayed only, cone here", ContentHealth{Holders: []Holder{relayed}}, ReachCone, true, VerdictRelayedOnly, "no hole was punched yet"},
		{"a get stalled with holders connected", ContentHealth{Holders: []Holder{direct}, Transfer: &TransferState{Stalled: true}}, ReachPublic, true, VerdictStalled, "nothing arrives though 1 holder is connected"},
		{"a stalled get with no holder reachable is stuck", ContentHealth{Holders: []Holder{gone}, Transfer: &TransferState{Stalled: true}}, ReachPublic, true, VerdictUnreachable, "none could be reached"},
		{"one slow peer", ContentHealth{Holders: []Holder{rate(direct, 8<<20), rate(punched, 6<<20), rate(relayed, 100<<10)}, Transfer: running}, ReachCone, true, VerdictSlowPeer, "one slow peer: R sends 100 KiB/s, the others 7.0 MiB/s"},
		{"peers at similar rates", ContentHealth{Holders: []Holder{rate(direct, 8<<20), rate(punched, 3<<20)}, Transfer: running}, ReachCone, true, VerdictOK, "2 holders reachable directly"},
		{"a slow peer alone is not judged slow", ContentHealth{Holders: []Holder{rate(relayed, 10<<10)}, Transfer: running}, ReachSymmetric, true, VerdictRelayedOnly, "only through a relay"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, why := judgeContent(tc.c, tc.self, tc.dhtOn)
			if got != tc.want || !strings.Contains(why, tc.why) {
				t.Errorf("judgeContent = %q, %q; want %q, with %q", got, why, tc.want, tc.why)
			}
			if stuck := tc.want == VerdictNoHolders || tc.want == VerdictUnreachable; got.Stuck() != stuck {
				t.Errorf("%q.Stuck() = %v", got, got.Stuck())
			}
		})
	}
}

func TestReachReasons(t *testing.T) {
	for _, tc := range []struct {
		name string
		nr   NodeReach
		want []string
	}{
		{"a home behind a cone NAT, on a relay", NodeReach{
			Reachability: ReachCone, AutoNAT: "private", NATTCP: natCone, NATUDP: natCone, InternetPeers: 2,
			Relays: []string{"R"}, PortMapping: PortMap{On: true},
			Unreachable: []string{"/ip4/192.0.0.131/tcp/4011"},
		}, []string{
			"AutoNAT v1: peers could not dial this node back",
			"AutoNAT v2: unreachable at /ip4/192.0.0.131/tcp/4011",
			"NAT over TCP: cone", "NAT over UDP: cone",
			"port mapping: no router answered",
			"relay reservations: 1 (R)",
		}},
		{"a relay on the internet", NodeReach{
			Reachability: ReachPublic, AutoNAT: "public", RelayService: true, NATTCP: natUnknown, NATUDP: natUnknown, InternetPeers: 1,
			PortMapping: PortMap{On: true, Gateway: true, Mapped: []MappedAddrs{{"/ip4/0.0.0.0/tcp/4011", "/ip4/192.0.0.129/tcp/4011"}}},
		}, []string{
			"runs a relay service",
			"AutoNAT v1: peers dialled this node back",
			"AutoNAT v2: no address checked yet",
			"port mapping: /ip4/0.0.0.0/tcp/4011 mapped to /ip4/192.0.0.129/tcp/4011",
		}},
		{"alone on loopback", NodeReach{Reachability: ReachUnknown, AutoNAT: "unknown", NATTCP: natUnknown, NATUDP: natUnknown}, []string{
			"AutoNAT v1: no peer has dialled this node back yet",
			"no peer on the internet is connected",
			"NAT kind: not told yet",
			"port mapping: off",
			"relay reservations: none yet",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(reachReasons(tc.nr), "\n")
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("reasons lack %q:\n%s", w, got)
				}
			}
		})
	}
}

func TestJudgeDHT(t *testing.T) {
	for _, tc := range []struct {
		d    DHTHealth
		want string
	}{
		{DHTHealth{}, "off"},
		{DHTHealth{On: true}, "no peers in the routing table"},
		{DHTHealth{On: true, RoutingTable: 3, Lookup: &LookupResult{Error: "context deadline exceeded"}}, "the test lookup failed: context deadline exceeded"},
		{DHTHealth{On: true, RoutingTable: 3, Lookup: &LookupResult{}}, "the test lookup found no peers"},
		{DHTHealth{On: true, RoutingTable: 3, Lookup: &LookupResult{Peers: 3}}, "healthy"},
	} {
		if got := judgeDHT(tc.d); !strings.HasPrefix(got, tc.want) {
			t.Errorf("judgeDHT(%+v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
