package main_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/internal/netlab"
)

// Tests across NATs, in the lab of internal/netlab: a relay on the
// internet (also the private DHT's bootstrap), people in homes behind
// routers. Each command runs in its node's namespace.

// labListen listens on every address of the node, TCP and QUIC, on
// pollen's default port.
var labListen = []string{"--listen", "/ip4/0.0.0.0/tcp/4011", "--listen", "/ip4/0.0.0.0/udp/4011/quic-v1", "--no-mdns"}

// startPublic runs `pollen daemon ARGS` on a public node and returns its
// address on the lab's internet.
func startPublic(t testing.TB, n *netlab.Node, extra ...string) string {
	t.Helper()
	_, addr := startPublicServer(t, n, extra...)
	return addr
}

// startPublicServer is startPublic, with the daemon's server.
func startPublicServer(t testing.TB, n *netlab.Node, extra ...string) (*server, string) {
	t.Helper()
	args := append([]string{"--repo", t.TempDir(), "daemon", "--api", "127.0.0.1:0"}, labListen...)
	s := startServerCmd(t, n.Command(context.Background(), pollenBin(t), append(args, extra...)...))
	for _, a := range s.addrs {
		if strings.HasPrefix(a, "/ip4/"+n.Addr().String()+"/tcp/") {
			return s, a
		}
	}
	t.Fatalf("%s printed no address on the internet: %v", n.Name(), s.addrs)
	return nil, ""
}

// slowLink limits what node n sends to mbit Mbit/s.
func slowLink(t testing.TB, n *netlab.Node, mbit int) {
	t.Helper()
	args := strings.Fields(fmt.Sprintf("qdisc add dev eth0 root tbf rate %dmbit burst 64kb latency 200ms", mbit))
	if out, err := n.Command(context.Background(), "tc", args...).CombinedOutput(); err != nil {
		t.Fatalf("tc: %v: %s", err, out)
	}
}

// labInternet makes a lab whose internet holds the private DHT's
// bootstrap node and a relay (its link limited to relayMbit Mbit/s when
// not 0, started with relayArgs too), and returns it with the flags a
// node in a home runs with.
func labInternet(t testing.TB, relayMbit int, relayArgs ...string) (*netlab.Lab, []string) {
	t.Helper()
	lab := netlab.New(t)
	boot := startPublic(t, lab.Public("boot"), "--bootstrap", "none")
	relayNode := lab.Public("relay")
	if relayMbit > 0 {
		slowLink(t, relayNode, relayMbit)
	}
	relay := startPublic(t, relayNode, append([]string{"--relay", "--bootstrap", boot}, relayArgs...)...)
	return lab, append([]string{"--bootstrap", boot, "--use-relay", relay}, labListen...)
}

// labShare runs pollen share of src in node n with the flags home and
// returns it with the ticket it prints once it holds a relay's slot.
func labShare(t testing.TB, n *netlab.Node, home []string, src string) (*server, string) {
	t.Helper()
	s := startServerCmd(t, n.Command(context.Background(), pollenBin(t),
		append([]string{"--repo", t.TempDir(), "share", src}, home...)...))
	return s, s.waitTicket(relayedTicket, 90*time.Second)
}

// labGet runs pollen get in node n and returns its output.
func labGet(t testing.TB, n *netlab.Node, args ...string) (string, error) {
	t.Helper()
	cmd := n.Command(context.Background(), pollenBin(t), append([]string{"--repo", t.TempDir(), "get"}, args...)...)
	cmd.Env = append(os.Environ(), "POLLEN_REPO=")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// relayedTicket says whether a ticket names an address through a relay.
func relayedTicket(s string) bool {
	tk, err := pollen.ParseTicket(s)
	if err != nil {
		return false
	}
	for _, a := range tk.Peer.Addrs {
		if strings.Contains(a.String(), "/p2p-circuit") {
			return true
		}
	}
	return false
}

// TestAcrossNATs shares a file from one home and gets it in another with
// the ticket the sharer printed once it found a relay: through two cone
// NATs the getter ends on a direct connection (a hole punched), through
// two symmetric ones it stays on the relay. The internet holds the
// private DHT's bootstrap node and a relay the homes are told of.
func TestAcrossNATs(t *testing.T) {
	for _, tc := range []struct {
		nat  netlab.NAT
		want string
	}{
		{netlab.Cone, "hole punched to "},
		{netlab.Symmetric, "relayed through /ip4/"},
	} {
		t.Run(tc.nat.String(), func(t *testing.T) {
			// A relay's link is the slow way round, so the test sees the
			// transfer move when a hole is punched.
			lab, home := labInternet(t, 16)
			alice, bob := lab.Home("alice", tc.nat), lab.Home("bob", tc.nat)
			src := bigFile(t, 24)
			begin := time.Now()
			share, ticket := labShare(t, alice.Host, home, src)
			t.Logf("%v: a ticket through the relay after %s", tc.nat, time.Since(begin).Round(time.Millisecond))

			out := t.TempDir()
			begin = time.Now()
			res, err := labGet(t, bob.Host, append([]string{ticket, "-o", out, "--timeout", "60s"}, home...)...)
			if err != nil {
				t.Fatalf("get across %v NATs: %v\n%s\nsharer:\n%s", tc.nat, err, res, share.stderr)
			}
			t.Logf("%v: got 24 MiB in %s:\n%s", tc.nat, time.Since(begin).Round(time.Millisecond), res)
			sameFile(t, src, filepath.Join(out, filepath.Base(src)))
			if !strings.Contains(res, tc.want) {
				t.Errorf("get across %v NATs: want %q in its output; the sharer said:\n%s", tc.nat, tc.want, share.stderr)
			}
			for _, want := range []string{"reachability: ", fmt.Sprintf("behind a %s NAT", strings.ToLower(tc.nat.String()))} {
				if !strings.Contains(share.stderr.String(), want) {
					t.Errorf("the sharer did not say %q:\n%s", want, share.stderr)
				}
			}
		})
	}
}

// TestTicketOutlivesSharer: a getter in one home fetches and seeds; the
// sharer leaves; a getter in a third home, with the sharer's ticket,
// fetches from the first getter, whom the DHT names as a provider.
func TestTicketOutlivesSharer(t *testing.T) {
	lab, home := labInternet(t, 0)
	alice, bob, carol := lab.Home("alice", netlab.Cone), lab.Home("bob", netlab.Cone), lab.Home("carol", netlab.Symmetric)
	src := bigFile(t, 8)
	share, ticket := labShare(t, alice.Host, home, src)

	seed := startServerCmd(t, bob.Host.Command(context.Background(), pollenBin(t),
		append([]string{"--repo", t.TempDir(), "get", ticket, "-o", t.TempDir(), "--seed", "--timeout", "60s"}, home...)...))
	// Once bob is reachable through the relay too, the sharer leaves.
	seed.waitTicket(relayedTicket, 90*time.Second)
	share.stop()
	_, bobID, _ := strings.Cut(seed.addrs[0], "/p2p/")

	out := t.TempDir()
	begin := time.Now()
	res, err := labGet(t, carol.Host, append([]string{ticket, "-o", out, "--timeout", "90s"}, home...)...)
	if err != nil {
		t.Fatalf("get after the sharer left: %v\n%s", err, res)
	}
	t.Logf("after the sharer left, got 8 MiB in %s:\n%s", time.Since(begin).Round(time.Millisecond), res)
	sameFile(t, src, filepath.Join(out, filepath.Base(src)))
	if !strings.Contains(res, "from "+bobID+": 8.0 MiB") {
		t.Errorf("want all of it from bob, %s", bobID)
	}
}

// TestRelayLeavesMidTransfer: the sharer holds slots on two relays and
// the getter, both behind symmetric NATs, fetches through one; that
// relay stops halfway, and the transfer goes on through the other.
func TestRelayLeavesMidTransfer(t *testing.T) {
	lab := netlab.New(t)
	boot := startPublic(t, lab.Public("boot"), "--bootstrap", "none")
	r1, r2 := lab.Public("relayone"), lab.Public("relaytwo")
	slowLink(t, r1, 16)
	slowLink(t, r2, 16)
	s1, addr1 := startPublicServer(t, r1, "--relay", "--bootstrap", boot)
	s2, addr2 := startPublicServer(t, r2, "--relay", "--bootstrap", boot)
	alice, bob := lab.Home("alice", netlab.Symmetric), lab.Home("bob", netlab.Symmetric)
	home := append([]string{"--bootstrap", boot, "--use-relay", addr1, "--use-relay", addr2}, labListen...)
	src := bigFile(t, 24) // 12 s through a relay
	share := startServerCmd(t, alice.Host.Command(context.Background(), pollenBin(t),
		append([]string{"--repo", t.TempDir(), "share", src}, home...)...))
	_, id1, _ := strings.Cut(addr1, "/p2p/")
	_, id2, _ := strings.Cut(addr2, "/p2p/")
	ticket := share.waitTicket(func(s string) bool {
		tk, err := pollen.ParseTicket(s)
		if err != nil {
			return false
		}
		both := ""
		for _, a := range tk.Peer.Addrs {
			both += a.String()
		}
		return strings.Contains(both, id1+"/p2p-circuit") && strings.Contains(both, id2+"/p2p-circuit")
	}, 90*time.Second)

	out := t.TempDir()
	done := make(chan struct{})
	var res string
	var err error
	go func() {
		defer close(done)
		res, err = labGet(t, bob.Host, append([]string{ticket, "-o", out, "--timeout", "60s"}, home...)...)
	}()
	// Halfway, the relay that carries the transfer (the one that sent
	// more) stops.
	time.Sleep(6 * time.Second)
	sent := func(n *netlab.Node) int64 {
		o, _ := n.Command(context.Background(), "tc", "-s", "qdisc", "show", "dev", "eth0").Output()
		var b int64
		if i := strings.Index(string(o), "Sent "); i >= 0 {
			fmt.Sscan(string(o)[i+5:], &b)
		}
		return b
	}
	gone := s1
	if sent(r2) > sent(r1) {
		gone = s2
	}
	gone.kill()
	t.Logf("a relay stopped 6 s in (sent: relayone %d, relaytwo %d bytes)", sent(r1), sent(r2))
	<-done
	if err != nil {
		t.Fatalf("get through a relay that left: %v\n%s", err, res)
	}
	t.Logf("%s", res)
	sameFile(t, src, filepath.Join(out, filepath.Base(src)))
}
