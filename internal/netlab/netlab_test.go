package netlab_test

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pollen-p2p/pollen/internal/netlab"
)

const (
	port      = 7000
	punchPort = 40000
)

// Generous for what must get through, on a machine that may be busy with
// a benchmark; short for what must not, which can only time out.
const (
	reachable   = 5 * time.Second
	unreachable = time.Second
)

// TestHomeReachesInternet checks that a host behind either NAT reaches a
// public node over TCP and UDP, seen there as its router's public address.
func TestHomeReachesInternet(t *testing.T) {
	for _, nat := range []netlab.NAT{netlab.Cone, netlab.Symmetric} {
		t.Run(nat.String(), func(t *testing.T) {
			lab := netlab.New(t)
			relay := lab.Public("relay")
			home := lab.Home("alice", nat)
			startServer(t, relay, port)
			for _, proto := range []string{"tcp", "udp"} {
				res, err := runProbe(t, home.Host, proto, reachable, netip.AddrPortFrom(relay.Addr(), port))
				if err != nil {
					t.Fatalf("%s from %s to %s: %v", proto, home.Host.Name(), relay.Name(), err)
				}
				if got := res.seen[0].Addr(); got != home.Router.Addr() {
					t.Errorf("%s: the relay saw %v, want the router's public %v, not the host's %v",
						proto, got, home.Router.Addr(), home.Host.Addr())
				}
			}
		})
	}
}

// TestNATKinds sends from one UDP socket to three destinations (two
// addresses, two ports at one of them) and compares the public ports they
// saw.
func TestNATKinds(t *testing.T) {
	lab := netlab.New(t)
	relay, boot := lab.Public("relay"), lab.Public("bootstrap")
	cone, symmetric := lab.Home("alice", netlab.Cone), lab.Home("bob", netlab.Symmetric)
	startServer(t, relay, port, port+1)
	startServer(t, boot, port)
	targets := []netip.AddrPort{
		netip.AddrPortFrom(relay.Addr(), port),
		netip.AddrPortFrom(relay.Addr(), port+1),
		netip.AddrPortFrom(boot.Addr(), port),
	}
	ports := func(h *netlab.Home) (local uint16, public []uint16) {
		t.Helper()
		res, err := runProbe(t, h.Host, "udp", reachable, targets...)
		if err != nil {
			t.Fatalf("%v NAT: %v", h.NAT, err)
		}
		for _, s := range res.seen {
			if s.Addr() != h.Router.Addr() {
				t.Errorf("%v NAT: seen from %v, want the router's %v", h.NAT, s.Addr(), h.Router.Addr())
			}
			public = append(public, s.Port())
		}
		return res.local, public
	}

	local, public := ports(cone)
	t.Logf("cone: local port %d, seen as %v", local, public)
	for i, p := range public {
		if p != local {
			t.Errorf("cone NAT: %v saw port %d, want the host's own %d at every destination", targets[i], p, local)
		}
	}

	local, public = ports(symmetric)
	t.Logf("symmetric: local port %d, seen as %v", local, public)
	// Random ports may meet by chance (1 in 64512 for two), so the test is
	// that they are not one port for all, as a cone NAT would give.
	if len(slices.Compact(slices.Sorted(slices.Values(public)))) == 1 {
		t.Errorf("symmetric NAT: every destination saw port %d, want a port per destination", public[0])
	}
}

// TestHolePunch has the hosts of two homes send to each other's public
// address at once, each from the port the other aims at, as peers told
// each other's address by a rendezvous do. Through two cone NATs both
// get through; a symmetric NAT sends from a port the other side never
// opened to, so nothing does.
func TestHolePunch(t *testing.T) {
	for _, tc := range []struct {
		a, b    netlab.NAT
		through bool
	}{
		{netlab.Cone, netlab.Cone, true},
		{netlab.Cone, netlab.Symmetric, false},
		{netlab.Symmetric, netlab.Symmetric, false},
	} {
		t.Run(tc.a.String()+"-"+tc.b.String(), func(t *testing.T) {
			lab := netlab.New(t)
			alice, bob := lab.Home("alice", tc.a), lab.Home("bob", tc.b)
			wait := unreachable * 2
			if tc.through {
				wait = reachable
			}
			punchAt := func(from, to *netlab.Home) (string, error) {
				dst := netip.AddrPortFrom(to.Router.Addr(), punchPort)
				out, err := helperCommand(t, from.Host, "punch", strconv.Itoa(punchPort), wait.String(), dst.String()).Output()
				return strings.TrimSpace(string(out)), err
			}
			type result struct {
				out string
				err error
			}
			fromBob := make(chan result, 1)
			go func() {
				out, err := punchAt(bob, alice)
				fromBob <- result{out, err}
			}()
			a, aErr := punchAt(alice, bob)
			b := <-fromBob
			want := fmt.Sprintf("got %v", netip.AddrPortFrom(bob.Router.Addr(), punchPort))
			if tc.through && (aErr != nil || a != want) {
				t.Errorf("alice: %q, %v; want %q", a, aErr, want)
			}
			want = fmt.Sprintf("got %v", netip.AddrPortFrom(alice.Router.Addr(), punchPort))
			if tc.through && (b.err != nil || b.out != want) {
				t.Errorf("bob: %q, %v; want %q", b.out, b.err, want)
			}
			if !tc.through && (aErr == nil || b.err == nil) {
				t.Errorf("got through a symmetric NAT: alice %q, bob %q", a, b.out)
			}
		})
	}
}

// TestHomesAreApart checks that a home's private address is reachable
// from its own network only: not from another home, and not from the
// internet even by a node that routes the private network at the router.
func TestHomesAreApart(t *testing.T) {
	lab := netlab.New(t)
	relay := lab.Public("relay")
	homes := []*netlab.Home{lab.Home("alice", netlab.Cone), lab.Home("bob", netlab.Symmetric)}
	for _, h := range homes {
		startServer(t, h.Host, port)
		// The server answers on its own network, so what fails below
		// fails because of the lab.
		if _, err := runProbe(t, h.Router, "tcp", reachable, netip.AddrPortFrom(h.Host.Addr(), port)); err != nil {
			t.Fatalf("%s's router to its host: %v", h.Host.Name(), err)
		}
		lan := netip.PrefixFrom(h.Host.Addr(), 24).Masked()
		route := relay.Command(t.Context(), "ip", "route", "add", lan.String(), "via", h.Router.Addr().String())
		if out, err := route.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v: %s", route, err, out)
		}
	}
	for i, h := range homes {
		private := netip.AddrPortFrom(h.Host.Addr(), port)
		other := homes[1-i].Host
		for _, from := range []*netlab.Node{other, relay} {
			for _, proto := range []string{"tcp", "udp"} {
				if res, err := runProbe(t, from, proto, unreachable, private); err == nil {
					t.Errorf("%s reached %s's private %v over %s, seen as %v",
						from.Name(), h.Host.Name(), private, proto, res.seen[0])
				}
			}
		}
	}
}

// TestCleanup checks that a lab leaves no namespace behind, even with a
// process still running in one of its nodes.
func TestCleanup(t *testing.T) {
	var made []string
	var left *exec.Cmd
	t.Run("lab", func(t *testing.T) {
		lab := netlab.New(t)
		relay := lab.Public("relay")
		lab.Home("alice", netlab.Cone)
		lab.Home("bob", netlab.Symmetric)
		left = relay.Command(context.Background(), "sleep", "600")
		if err := left.Start(); err != nil {
			t.Fatal(err)
		}
		made = lab.Namespaces()
	})
	if made == nil {
		t.Skip("no lab was made")
	}
	if len(made) != 6 { // the internet, relay, and a router and a host per home
		t.Errorf("the lab made %d namespaces, want 6: %v", len(made), made)
	}
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(out)) {
		if name, _, _ := strings.Cut(strings.TrimSpace(line), " "); slices.Contains(made, name) {
			t.Errorf("namespace %s is still there", name)
		}
	}
	done := make(chan error, 1)
	go func() { done <- left.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("the process left in the lab ended by itself, want it killed")
		}
	case <-time.After(10 * time.Second):
		left.Process.Kill()
		t.Errorf("the process left in the lab still runs")
	}
}
