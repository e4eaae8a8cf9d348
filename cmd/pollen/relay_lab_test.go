package main_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/internal/netlab"
)

// TestLimitedRelay: a relay whose operator allows 4 MiB a connection,
// two homes behind symmetric NATs (no hole to punch), a 12 MiB file.
// Each relayed connection ends at its limit; the get dials the sharer
// again through the relay and goes on where it was, to the end.
func TestLimitedRelay(t *testing.T) {
	lab, home := labInternet(t, 0, "--relay-max-data", "4MiB")
	alice, bob := lab.Home("alice", netlab.Symmetric), lab.Home("bob", netlab.Symmetric)
	src := bigFile(t, 12)
	_, ticket := labShare(t, alice.Host, home, src)

	out := t.TempDir()
	begin := time.Now()
	res, err := labGet(t, bob.Host, append([]string{ticket, "-o", out, "--timeout", "60s"}, home...)...)
	if err != nil {
		t.Fatalf("get through a relay of 4 MiB a connection: %v\n%s", err, res)
	}
	t.Logf("12 MiB through a relay of 4 MiB a connection in %s:\n%s", time.Since(begin).Round(time.Millisecond), res)
	sameFile(t, src, filepath.Join(out, filepath.Base(src)))
	if !strings.Contains(res, "relayed through") {
		t.Errorf("want the get to say it was relayed")
	}
}

// TestPortMapped: the sharer's router grants port mappings (UPnP), so
// the sharer maps its port, AutoNAT finds it public, and a getter behind
// a symmetric NAT dials it directly, with no relay and no hole to punch.
func TestPortMapped(t *testing.T) {
	lab, home := labInternet(t, 0)
	alice, bob := lab.Home("alice", netlab.Cone), lab.Home("bob", netlab.Symmetric)
	mapped := lab.PortMapping(alice)
	src := bigFile(t, 8)
	share := startServerCmd(t, alice.Host.Command(context.Background(), pollenBin(t),
		append([]string{"--repo", t.TempDir(), "share", src}, home...)...))
	select {
	case m := <-mapped:
		t.Logf("the router mapped %s", m)
	case <-time.After(30 * time.Second):
		t.Fatalf("the sharer asked its router for no mapping:\n%s", share.stderr)
	}
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(share.stderr.String(), "reachability: public") {
		if time.Now().After(deadline) {
			t.Fatalf("the sharer never found itself public:\n%s", share.stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Its ticket now names the router's public address: the mapping.
	ticket := share.waitTicket(func(s string) bool {
		tk, err := pollen.ParseTicket(s)
		if err != nil {
			return false
		}
		for _, a := range tk.Peer.Addrs {
			if strings.HasPrefix(a.String(), "/ip4/"+alice.Router.Addr().String()+"/") {
				return true
			}
		}
		return false
	}, 30*time.Second)
	out := t.TempDir()
	res, err := labGet(t, bob.Host, append([]string{ticket, "-o", out, "--timeout", "60s"}, home...)...)
	if err != nil {
		t.Fatalf("get from a sharer with a mapped port: %v\n%s", err, res)
	}
	t.Logf("%s", res)
	sameFile(t, src, filepath.Join(out, filepath.Base(src)))
	if !strings.Contains(res, ": 8.0 MiB") || !strings.HasSuffix(strings.TrimSpace(res), ", direct") {
		t.Errorf("want all of it over a direct connection")
	}
}
