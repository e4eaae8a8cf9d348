package swarm_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/pollen-p2p/pollen/swarm"
)

var loopback = []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0"), ma.StringCast("/ip4/127.0.0.1/udp/0/quic-v1")}

func newSwarm(t *testing.T, cfg swarm.Config) *swarm.Swarm {
	t.Helper()
	if cfg.Listen == nil {
		cfg.Listen = loopback
	}
	cfg.NoMDNS = true
	s, err := swarm.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestIdentityPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "identity.key")
	k1, err := swarm.LoadIdentity(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	k2, err := swarm.LoadIdentity(path)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equals(k2) {
		t.Error("second load gave another key")
	}
	a := newSwarm(t, swarm.Config{Identity: k1, Offline: true})
	id, _ := peer.IDFromPrivateKey(k1)
	if a.Host.ID() != id {
		t.Errorf("host ID %s, key says %s", a.Host.ID(), id)
	}
}

func TestConnectOverTCPAndQUIC(t *testing.T) {
	a := newSwarm(t, swarm.Config{Offline: true})
	for _, proto := range []string{"/tcp/", "/quic-v1"} {
		t.Run(strings.Trim(proto, "/"), func(t *testing.T) {
			b := newSwarm(t, swarm.Config{Offline: true})
			var addrs []ma.Multiaddr
			for _, x := range a.Host.Addrs() {
				if strings.Contains(x.String(), proto) {
					addrs = append(addrs, x)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := b.Connect(ctx, peer.AddrInfo{ID: a.Host.ID(), Addrs: addrs}); err != nil {
				t.Fatal(err)
			}
			conns := b.Host.Network().ConnsToPeer(a.Host.ID())
			if len(conns) == 0 {
				t.Fatal("no connection")
			}
			if proto == "/tcp/" && conns[0].ConnState().Security != "/tls/1.0.0" {
				t.Errorf("security %q, want TLS first", conns[0].ConnState().Security)
			}
		})
	}
	for _, x := range a.Addrs() {
		if !strings.HasSuffix(x.String(), "/p2p/"+a.Host.ID().String()) {
			t.Errorf("address %s is not dialable /.../p2p/ID", x)
		}
	}
}

func TestDefaultPortFallsBack(t *testing.T) {
	l, err := net.Listen("tcp4", "127.0.0.1:4011")
	if err != nil {
		t.Skipf("port %d not free for the test: %v", swarm.DefaultPort, err)
	}
	defer l.Close()
	s := newSwarm(t, swarm.Config{Offline: true, Listen: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/4011")}})
	addrs := s.Host.Addrs()
	if len(addrs) != 1 || strings.HasSuffix(addrs[0].String(), "/4011") {
		t.Errorf("listening on %v, want one free port instead of the taken 4011", addrs)
	}
}

func TestTicketRoundTrip(t *testing.T) {
	s := newSwarm(t, swarm.Config{Offline: true})
	root, _ := cid.Decode("bafybeiecatufxsbl7lrfhjc3wrk7ezpdwmo76vn4kqbutwz5vypbngoz7a")
	tk := swarm.Ticket{Root: root, Name: "photos 2026", Peer: s.AddrInfo()}
	str := tk.String()
	if !strings.HasPrefix(str, "pollen1") || strings.ContainsAny(str, " \n/") {
		t.Errorf("ticket %q is not one copyable word", str)
	}
	got, err := swarm.ParseTicket(str)
	if err != nil {
		t.Fatal(err)
	}
	if got.Root != root || got.Name != tk.Name || got.Peer.ID != tk.Peer.ID || len(got.Peer.Addrs) != len(tk.Peer.Addrs) {
		t.Errorf("round trip gave %+v, want %+v", got, tk)
	}
}

func TestParseTicketErrors(t *testing.T) {
	s := newSwarm(t, swarm.Config{Offline: true})
	root, _ := cid.Decode("bafybeiecatufxsbl7lrfhjc3wrk7ezpdwmo76vn4kqbutwz5vypbngoz7a")
	good := swarm.Ticket{Root: root, Peer: s.AddrInfo()}.String()
	cases := map[string]string{
		"":                        "does not start with",
		"bafybeiecatufxsbl7lrfhj": "does not start with",
		"pollen1!!!!":             "not base32",
		good[:len(good)-9]:        "truncated",
		"pollen1aaaa":             "truncated",
	}
	for in, want := range cases {
		_, err := swarm.ParseTicket(in)
		if !errors.Is(err, swarm.ErrBadTicket) || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseTicket(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestBlockedPeerCannotReconnect(t *testing.T) {
	a := newSwarm(t, swarm.Config{Offline: true})
	b := newSwarm(t, swarm.Config{Offline: true})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Connect(ctx, a.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	a.Block(b.Host.ID())
	if len(a.Host.Network().ConnsToPeer(b.Host.ID())) != 0 {
		t.Error("still connected to a blocked peer")
	}
	if err := b.Connect(ctx, a.AddrInfo()); err == nil && len(a.Host.Network().ConnsToPeer(b.Host.ID())) != 0 {
		t.Error("a blocked peer connected again")
	}
}

// TestLimitsChangeOnlyOnAShapedNode: a node started with a limit, or
// Shaped, takes new limits while it runs; one started with neither
// keeps its sockets bare and says so.
func TestLimitsChangeOnlyOnAShapedNode(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  swarm.Config
		ok   bool
	}{
		{"a limit at the start", swarm.Config{Offline: true, Limits: swarm.Limits{Up: 1 << 20}}, true},
		{"shaped with no limit yet", swarm.Config{Offline: true, Shaped: true}, true},
		{"neither", swarm.Config{Offline: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSwarm(t, tc.cfg)
			err := s.SetLimits(swarm.Limits{Down: 2 << 20})
			if tc.ok != (err == nil) || (!tc.ok && !errors.Is(err, swarm.ErrNotShaped)) {
				t.Fatalf("SetLimits: %v", err)
			}
			if want := (swarm.Limits{Down: 2 << 20}); tc.ok && s.Limits() != want {
				t.Errorf("Limits() = %+v, want %+v", s.Limits(), want)
			}
		})
	}
}
