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
func startPublic(t *testing.T, n *netlab.Node, extra ...string) string {
	t.Helper()
	args := append([]string{"--repo", t.TempDir(), "daemon", "--api", "127.0.0.1:0"}, labListen...)
	s := startServerCmd(t, n.Command(context.Background(), pollenBin(t), append(args, extra...)...))
	for _, a := range s.addrs {
		if strings.HasPrefix(a, "/ip4/"+n.Addr().String()+"/tcp/") {
			return a
		}
	}
	t.Fatalf("the relay printed no address on the internet: %v", s.addrs)
	return ""
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
			lab := netlab.New(t)
			boot := startPublic(t, lab.Public("boot"), "--bootstrap", "none")
			relayNode := lab.Public("relay")
			// A relay's link is the slow way round: 16 Mbit/s out, so the
			// test sees the transfer move when a hole is punched.
			if out, err := relayNode.Command(context.Background(), "tc", strings.Fields("qdisc add dev eth0 root tbf rate 16mbit burst 64kb latency 200ms")...).CombinedOutput(); err != nil {
				t.Fatalf("tc: %v: %s", err, out)
			}
			relay := startPublic(t, relayNode, "--relay", "--bootstrap", boot)
			alice, bob := lab.Home("alice", tc.nat), lab.Home("bob", tc.nat)
			home := append([]string{"--bootstrap", boot, "--use-relay", relay}, labListen...)
			src := bigFile(t, 24)
			begin := time.Now()
			share := startServerCmd(t, alice.Host.Command(context.Background(), pollenBin(t),
				append([]string{"--repo", t.TempDir(), "share", src}, home...)...))
			ticket := share.waitTicket(relayedTicket, 90*time.Second)
			t.Logf("%v: a ticket through the relay after %s", tc.nat, time.Since(begin).Round(time.Millisecond))

			out := t.TempDir()
			begin = time.Now()
			cmd := bob.Host.Command(context.Background(), pollenBin(t),
				append([]string{"--repo", t.TempDir(), "get", ticket, "-o", out, "--timeout", "60s"}, home...)...)
			cmd.Env = append(os.Environ(), "POLLEN_REPO=")
			res, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("get across %v NATs: %v\n%s\nsharer:\n%s", tc.nat, err, res, share.stderr)
			}
			t.Logf("%v: got 24 MiB in %s:\n%s", tc.nat, time.Since(begin).Round(time.Millisecond), res)
			sameFile(t, src, filepath.Join(out, filepath.Base(src)))
			if !strings.Contains(string(res), tc.want) {
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
