package pollen_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

// strangerGets tries to get root from the given peer knowing only its
// CID, and checks that it fails and that nothing moved either way, over
// pollen's protocols or Bitswap (which the get falls back to at once,
// the pollen peer saying it holds nothing).
func strangerGets(t *testing.T, stranger, holder *pollen.Node, root cid.Cid) {
	t.Helper()
	sentBefore := holder.Bitswap().BlocksSent
	got0, sent0 := stranger.Traffic()[holder.ID()], holder.Traffic()[stranger.ID()]
	_, err := stranger.Get(t.Context(), root, t.TempDir(), pollen.GetOptions{
		From: []peer.AddrInfo{holder.AddrInfo()}, Stall: 4 * time.Second,
	})
	if !errors.Is(err, pollen.ErrNoPeers) {
		t.Errorf("a stranger's get of %s: %v, want %v", root, err, pollen.ErrNoPeers)
	}
	if got := stranger.Traffic()[holder.ID()]; got.Received != got0.Received || got.BlocksReceived != got0.BlocksReceived {
		t.Errorf("a stranger received %+v from the holder, had %+v", got, got0)
	}
	if got := holder.Traffic()[stranger.ID()]; got.Sent != sent0.Sent {
		t.Errorf("the holder sent a stranger %+v, had %+v", got, sent0)
	}
	if n := holder.Bitswap().BlocksSent - sentBefore; n != 0 {
		t.Errorf("the holder's Bitswap sent %d blocks", n)
	}
}

// TestPrivateShare: a private share reaches whoever holds its ticket,
// directly and through a getter that reseeds it; a peer that knows only
// its CID (or a leaf's) gets nothing from either.
func TestPrivateShare(t *testing.T) {
	ctx := t.Context()
	nodes := onlineNodes(t, 4)
	sharer, friend, stranger, late := nodes[0], nodes[1], nodes[2], nodes[3]
	src := filepath.Join(t.TempDir(), "secret")
	if err := testdata.Tree(src, 11, testdata.TreeOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := sharer.Share(ctx, src, pollen.AddOptions{Private: true})
	if err != nil {
		t.Fatal(err)
	}
	tk := sharer.Ticket(res.Root)
	if !tk.Private() || len(tk.Secret) != 32 {
		t.Fatalf("ticket of a private share has no secret: %+v", tk)
	}
	parsed, err := pollen.ParseTicket(tk.String())
	if err != nil || string(parsed.Secret) != string(tk.Secret) {
		t.Fatalf("ticket does not carry its secret through a string: %v", err)
	}

	strangerGets(t, stranger, sharer, res.Root)

	out := t.TempDir()
	if _, err := friend.Get(ctx, res.Root, out, pollen.GetOptions{
		Name: tk.Name, From: []peer.AddrInfo{tk.Peer}, Secret: tk.Secret, Stall: 30 * time.Second,
	}); err != nil {
		t.Fatalf("get with the ticket: %v", err)
	}
	sameTree(t, src, filepath.Join(out, tk.Name))
	recs, _ := friend.List()
	if len(recs) != 1 || !recs[0].Private() {
		t.Fatalf("the friend keeps %+v, want one private record", recs)
	}

	// A leaf's CID, learnt somehow, is worth no more than the root's.
	tree, err := friend.Tree(ctx, res.Root, pollen.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var leaf cid.Cid
	for _, en := range tree.Entries {
		if en.Kind == "file" && en.Size > 0 && en.Size < 1<<20 {
			leaf = en.CID
			break
		}
	}
	if !leaf.Defined() {
		t.Fatal("no small file in the tree")
	}
	strangerGets(t, stranger, friend, leaf)
	strangerGets(t, stranger, friend, res.Root)

	// The friend reseeds it to another ticket holder, the sharer gone.
	sharer.Close()
	out2 := t.TempDir()
	if _, err := late.Get(ctx, res.Root, out2, pollen.GetOptions{
		Name: tk.Name, From: []peer.AddrInfo{friend.AddrInfo()}, Secret: tk.Secret, Stall: 30 * time.Second,
	}); err != nil {
		t.Fatalf("get from the friend with the ticket: %v", err)
	}
	sameTree(t, src, filepath.Join(out2, tk.Name))
}

// TestAllowList: a share limited to named peers reaches them, and a peer
// not named gets nothing even with the ticket, and is told why.
func TestAllowList(t *testing.T) {
	ctx := t.Context()
	nodes := onlineNodes(t, 3)
	sharer, named, other := nodes[0], nodes[1], nodes[2]
	src := filepath.Join(t.TempDir(), "for-named.bin")
	if err := testdata.WriteFile(src, 3, 3<<20+5); err != nil {
		t.Fatal(err)
	}
	res, err := sharer.Share(ctx, src, pollen.AddOptions{Allow: []peer.ID{named.ID()}})
	if err != nil {
		t.Fatal(err)
	}
	tk := sharer.Ticket(res.Root)
	if !tk.Private() || !slices.Equal(tk.Allow, []peer.ID{named.ID()}) {
		t.Fatalf("ticket: %+v", tk)
	}
	_, err = other.Get(ctx, res.Root, t.TempDir(), pollen.GetOptions{
		From: []peer.AddrInfo{tk.Peer}, Secret: tk.Secret, Allow: tk.Allow, Stall: 4 * time.Second,
	})
	if err == nil || !strings.Contains(err.Error(), "limited to other peers") {
		t.Errorf("a peer not on the list: %v", err)
	}
	if got := other.Traffic()[sharer.ID()]; got.Received != 0 {
		t.Errorf("a peer not on the list received %+v", got)
	}
	out := t.TempDir()
	if _, err := named.Get(ctx, res.Root, out, pollen.GetOptions{
		Name: "x.bin", From: []peer.AddrInfo{tk.Peer}, Secret: tk.Secret, Allow: tk.Allow, Stall: 30 * time.Second,
	}); err != nil {
		t.Fatalf("the named peer: %v", err)
	}
	a, _ := os.ReadFile(src)
	b, _ := os.ReadFile(filepath.Join(out, "x.bin"))
	if string(a) != string(b) {
		t.Error("the named peer's copy differs")
	}
}

// TestPrivateBlocksAlsoPublic: a block that a public share holds too is
// served to anyone (it is public already); the rest stay private.
func TestPrivateBlocksAlsoPublic(t *testing.T) {
	ctx := t.Context()
	nodes := onlineNodes(t, 2)
	sharer, stranger := nodes[0], nodes[1]
	dir := t.TempDir()
	both := filepath.Join(dir, "private", "both.bin")
	os.MkdirAll(filepath.Dir(both), 0o755)
	if err := testdata.WriteFile(both, 5, 1<<20+7); err != nil {
		t.Fatal(err)
	}
	if err := testdata.WriteFile(filepath.Join(dir, "private", "only.bin"), 6, 1<<20+7); err != nil {
		t.Fatal(err)
	}
	priv, err := sharer.Share(ctx, filepath.Join(dir, "private"), pollen.AddOptions{Private: true})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := sharer.Share(ctx, both, pollen.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stranger.Get(ctx, pub.Root, t.TempDir(), pollen.GetOptions{
		From: []peer.AddrInfo{sharer.AddrInfo()}, Stall: 30 * time.Second,
	}); err != nil {
		t.Fatalf("the public file: %v", err)
	}
	strangerGets(t, stranger, sharer, priv.Root)
}

// TestPrivateOverQUIC: the per-share secret keeps every transport (a
// node-wide pre-shared key would turn QUIC off).
func TestPrivateOverQUIC(t *testing.T) {
	ctx := t.Context()
	cfg := isolated()
	cfg.Listen = []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/udp/0/quic-v1")}
	sharer, friend := startNode(t, cfg), startNode(t, cfg)
	src := filepath.Join(t.TempDir(), "q.bin")
	if err := testdata.WriteFile(src, 9, 5<<20); err != nil {
		t.Fatal(err)
	}
	res, err := sharer.Share(ctx, src, pollen.AddOptions{Private: true})
	if err != nil {
		t.Fatal(err)
	}
	tk := sharer.Ticket(res.Root)
	if _, err := friend.Get(ctx, res.Root, t.TempDir(), pollen.GetOptions{
		From: []peer.AddrInfo{tk.Peer}, Secret: tk.Secret, Stall: 30 * time.Second,
	}); err != nil {
		t.Fatal(err)
	}
	for _, p := range friend.Peers() {
		if _, err := p.Addr.ValueForProtocol(ma.P_QUIC_V1); err != nil {
			t.Errorf("connection over %s, want QUIC", p.Addr)
		}
	}
	if friend.Traffic()[sharer.ID()].Received < 5<<20 {
		t.Errorf("received %+v", friend.Traffic()[sharer.ID()])
	}
}

// TestPrivateNotInTheDHT: in a DHT of three nodes, a public share is
// found by its CID and a private one is not.
func TestPrivateNotInTheDHT(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	sharer, seeker := dhtOfThree(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "public.txt"), []byte("anyone may know"), 0o644)
	os.WriteFile(filepath.Join(dir, "private.txt"), []byte("only the ticket's holders"), 0o644)
	priv, err := sharer.Share(ctx, filepath.Join(dir, "private.txt"), pollen.AddOptions{Private: true})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := sharer.Share(ctx, filepath.Join(dir, "public.txt"), pollen.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sharer.ProvideAll(ctx) // as the daemon does at its start: the private one is left out
	inDHT := func(root cid.Cid) bool {
		d, err := seeker.Doctor(ctx, pollen.DoctorOptions{Root: root, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range d.Content.Holders {
			if h.ID == sharer.ID().String() && slices.Contains(h.Found, "dht") {
				return true
			}
		}
		return false
	}
	for !inDHT(pub.Root) {
		if ctx.Err() != nil {
			t.Fatal("the public share never reached the DHT")
		}
		time.Sleep(time.Second)
	}
	if inDHT(priv.Root) {
		t.Error("the private share is in the DHT")
	}
}
