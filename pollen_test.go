package pollen_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

func openNode(t *testing.T) *pollen.Node {
	t.Helper()
	n := openNodeNoCleanup(t)
	t.Cleanup(func() { n.Close() })
	return n
}

// onlineNodes opens n nodes on loopback with their networks started.
func onlineNodes(t *testing.T, n int) []*pollen.Node {
	t.Helper()
	out := make([]*pollen.Node, n)
	for i := range out {
		out[i] = openNode(t)
		if err := out[i].StartNetwork(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// isolated is a node's configuration in these tests: loopback, no DHT,
// no mDNS, so tests running side by side never meet.
func isolated() pollen.Config {
	return pollen.Config{Listen: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")}, Offline: true, NoMDNS: true}
}

// startNode opens a node with cfg, starts its network, and closes it
// when the test ends.
func startNode(t testing.TB, cfg pollen.Config) *pollen.Node {
	t.Helper()
	n, err := pollen.Open(t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	if err := n.StartNetwork(); err != nil {
		t.Fatal(err)
	}
	return n
}

// dhtOfThree starts three nodes that make a DHT of their own on
// loopback (the first is the others' bootstrap peer) and returns the
// two others.
func dhtOfThree(t *testing.T) (a, b *pollen.Node) {
	t.Helper()
	open := func(boot []peer.AddrInfo) *pollen.Node {
		cfg := isolated()
		cfg.Offline, cfg.Bootstrap = false, boot
		return startNode(t, cfg)
	}
	boot := open([]peer.AddrInfo{})
	return open([]peer.AddrInfo{boot.AddrInfo()}), open([]peer.AddrInfo{boot.AddrInfo()})
}

// openNodeNoCleanup opens a node on loopback that the test closes itself.
func openNodeNoCleanup(t *testing.T) *pollen.Node {
	t.Helper()
	n, err := pollen.Open(t.TempDir(), pollen.Config{
		Listen:  []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")},
		Offline: true,
		NoMDNS:  true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestShareAndGetThroughTheAPI is the library's front page in a test: one
// node shares a file, another gets it by ticket and then serves it.
func TestShareAndGetThroughTheAPI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	src := filepath.Join(t.TempDir(), "notes.bin")
	if err := testdata.WriteFile(src, 21, 3*testdata.MiB+5); err != nil {
		t.Fatal(err)
	}
	a, b := openNode(t), openNode(t)
	for _, n := range []*pollen.Node{a, b} {
		if err := n.StartNetwork(); err != nil {
			t.Fatal(err)
		}
	}
	res, err := a.Share(ctx, src, pollen.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ticket, err := pollen.ParseTicket(a.Ticket(res.Root).String())
	if err != nil {
		t.Fatal(err)
	}
	var last pollen.FetchProgress
	out := t.TempDir()
	got, err := b.Get(ctx, ticket.Root, out, pollen.GetOptions{
		Name:  ticket.Name,
		From:  []peer.AddrInfo{ticket.Peer},
		Stall: 20 * time.Second,
		Fetch: func(p pollen.FetchProgress) { last = p },
	})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(src)
	have, _ := os.ReadFile(filepath.Join(out, "notes.bin"))
	if got.Path != filepath.Join(out, "notes.bin") || !bytes.Equal(want, have) {
		t.Fatalf("got %+v; same bytes: %v", got, bytes.Equal(want, have))
	}
	if last.Done != last.Total || last.Peers[a.ID()] == 0 {
		t.Errorf("last progress %+v: want done == total and bytes from A", last)
	}
	recs, _ := b.List()
	if len(recs) != 1 || recs[0].Kind != pollen.KindReseed || recs[0].Root != res.Root {
		t.Errorf("B keeps %+v, want a reseed record of %s", recs, res.Root)
	}
	if err := b.Complete(ctx, res.Root); err != nil {
		t.Errorf("B does not hold every block: %v", err)
	}
}

func TestOpenTwiceSaysWhoHoldsTheRepo(t *testing.T) {
	dir := t.TempDir()
	n, err := pollen.Open(dir, pollen.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	_, err = pollen.Open(dir, pollen.Config{})
	if !errors.Is(err, pollen.ErrRepoInUse) {
		t.Fatalf("second Open = %v, want ErrRepoInUse", err)
	}
}
