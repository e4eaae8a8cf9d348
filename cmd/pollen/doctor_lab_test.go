package main_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/internal/netlab"
)

// labDoctor runs `pollen doctor ARGS` on a node of the lab, with a
// fresh repo, and returns what it printed and its exit code.
func labDoctor(t *testing.T, n *netlab.Node, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := n.Command(ctx, pollenBin(t), append([]string{"--repo", t.TempDir(), "doctor"}, args...)...)
	cmd.Env = append(os.Environ(), "POLLEN_REPO=")
	return runCmd(t, cmd)
}

// diagnosis decodes `pollen doctor --json`'s output.
func diagnosis(t *testing.T, r result) pollen.Diagnosis {
	t.Helper()
	var d pollen.Diagnosis
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
		t.Fatalf("doctor --json printed no diagnosis (%v), exit %d:\n%s\n%s", err, r.code, r.stdout, r.stderr)
	}
	return d
}

// TestDoctorAcrossNATs runs `pollen doctor` in the NAT lab, one lab per
// NAT kind: on a public node it names the node public; in a home it
// names the home's NAT, and with the ticket of a sharer in another home,
// finds the sharer and reaches it (through the relay, or directly once a
// hole is punched through cone NATs). Once in plain words.
func TestDoctorAcrossNATs(t *testing.T) {
	for _, tc := range []struct {
		nat   netlab.NAT
		reach pollen.ReachKind
		words string
	}{
		{netlab.Cone, pollen.ReachCone, "behind a cone NAT"},
		{netlab.Symmetric, pollen.ReachSymmetric, "behind a symmetric NAT"},
	} {
		t.Run(tc.nat.String(), func(t *testing.T) {
			lab := netlab.New(t)
			boot := startPublic(t, lab.Public("boot"), "--bootstrap", "none")
			relay := startPublic(t, lab.Public("relay"), "--relay", "--bootstrap", boot)
			alice, bob := lab.Home("alice", tc.nat), lab.Home("bob", tc.nat)
			pub := lab.Public("pub")
			home := append([]string{"--bootstrap", boot, "--use-relay", relay}, labListen...)
			begin := time.Now()
			share := startServerCmd(t, alice.Host.Command(context.Background(), pollenBin(t),
				append([]string{"--repo", t.TempDir(), "share", mixed(t) + "/one-byte.bin"}, home...)...))

			// A public node, while the sharer finds its relay; in plain
			// words in one of the labs.
			plain := tc.nat == netlab.Symmetric
			public := make(chan result, 1)
			go func() {
				args := append([]string{"--bootstrap", boot}, labListen...)
				if !plain {
					args = append(args, "--json")
				}
				public <- labDoctor(t, pub, args...)
			}()

			ticket := share.waitTicket(relayedTicket, 90*time.Second)
			t.Logf("%v: a ticket through the relay after %s", tc.nat, time.Since(begin).Round(time.Millisecond))
			begin = time.Now()
			r := labDoctor(t, bob.Host, append([]string{ticket, "--json", "--wait", "60s"}, home...)...)
			t.Logf("%v: doctor TICKET in a home took %s; it said:\n%s%s", tc.nat, time.Since(begin).Round(time.Millisecond), r.stdout, r.stderr)
			d := diagnosis(t, r)
			if r.code != 0 {
				t.Errorf("doctor TICKET in a home: exit %d", r.code)
			}
			if d.Node.Reachability != tc.reach {
				t.Errorf("a home behind a %v NAT is %q: %s", tc.nat, d.Node.Reachability, strings.Join(d.Node.Reasons, "; "))
			}
			// A home's routing table stays empty in a private DHT (kad-dht's
			// PrivateRoutingTableFilter takes no peer past a gateway), and
			// the doctor says so.
			if !d.DHT.On || d.DHT.Verdict == "" {
				t.Errorf("the DHT from a home: %+v", d.DHT)
			}
			if !strings.Contains(d.Node.Summary, tc.words) {
				t.Errorf("summary %q, want %q", d.Node.Summary, tc.words)
			}
			c := d.Content
			if c == nil || len(c.Holders) != 1 {
				t.Fatalf("content: %+v", c)
			}
			h := c.Holders[0]
			if h.Found[0] != "ticket" || !h.Connected || h.RTT <= 0 || c.Stuck {
				t.Errorf("the sharer as a holder: %+v (verdict %s: %s)", h, c.Verdict, c.Why)
			}
			switch {
			case tc.nat == netlab.Symmetric && (h.Conn != pollen.ConnRelayed || c.Verdict != pollen.VerdictRelayedOnly):
				t.Errorf("through symmetric NATs: %s, verdict %s: %s", h.Conn, c.Verdict, c.Why)
			case tc.nat == netlab.Symmetric && !strings.Contains(c.Why, "symmetric NAT, so no hole can be punched"):
				t.Errorf("the verdict does not say why it stays relayed: %s", c.Why)
			case tc.nat == netlab.Cone && h.Conn == "":
				t.Errorf("through cone NATs: not connected: %+v", h)
			}
			t.Logf("%v: the sharer is reached %s", tc.nat, h.Conn)
			if h.Conn == pollen.ConnRelayed && h.Via == "" {
				t.Errorf("relayed, but through what: %+v", h)
			}

			p := <-public
			t.Logf("a public node's doctor said:\n%s%s", p.stdout, p.stderr)
			if p.code != 0 {
				t.Errorf("doctor on a public node: exit %d", p.code)
			}
			if plain {
				for _, want := range []string{"reachability  public", "  address     /ip4/" + pub.Addr().String() + "/tcp/4011 (public)", "dht           healthy\n", "  lookup      found "} {
					if !strings.Contains(p.stdout, want) {
						t.Errorf("a public node's doctor lacks %q", want)
					}
				}
			} else if pd := diagnosis(t, p); pd.Node.Reachability != pollen.ReachPublic || pd.DHT.RoutingTable == 0 {
				t.Errorf("a public node is %q, routing table %d: %s", pd.Node.Reachability, pd.DHT.RoutingTable, strings.Join(pd.Node.Reasons, "; "))
			}
		})
	}
}
