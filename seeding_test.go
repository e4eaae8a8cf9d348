package pollen_test

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

// seedingNode opens a node on loopback with the given seeding rules and
// starts its network and seeding; it reports each stop on the channel.
func seedingNode(t *testing.T, rules pollen.SeedRules) (*pollen.Node, chan pollen.SeedStat) {
	t.Helper()
	cfg := isolated()
	cfg.Seed = rules
	n := startNode(t, cfg)
	stops := make(chan pollen.SeedStat, 8)
	if err := n.StartSeeding(func(st pollen.SeedStat) { stops <- st }); err != nil {
		t.Fatal(err)
	}
	return n, stops
}

func seedStat(t *testing.T, n *pollen.Node) pollen.SeedStat {
	t.Helper()
	stats, err := n.Seeding()
	if err != nil || len(stats) != 1 {
		t.Fatalf("seeding: %v, %v", stats, err)
	}
	return stats[0]
}

// TestSeedRatio: a node told to stop at 1.2 copies serves the first
// getter all of it, stops partway through the second, says so, and
// serves no one after; resumed with a rule of its own, it serves again.
func TestSeedRatio(t *testing.T) {
	ctx := t.Context()
	seeder, stops := seedingNode(t, pollen.SeedRules{Ratio: 1.2})
	getters := onlineNodes(t, 3)
	src := filepath.Join(t.TempDir(), "tree")
	if err := testdata.Tree(src, 4, testdata.TreeOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := seeder.Share(ctx, src, pollen.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	get := func(g *pollen.Node) error {
		_, err := g.Get(ctx, res.Root, t.TempDir(), pollen.GetOptions{
			Name: "tree", From: []peer.AddrInfo{seeder.AddrInfo()}, Stall: 4 * time.Second,
		})
		return err
	}
	if err := get(getters[0]); err != nil {
		t.Fatalf("the first getter: %v", err)
	}
	getters[0].Close() // else the next getters fetch from it (peer exchange)
	if st := seedStat(t, seeder); st.State != pollen.SeedSeeding || st.Peers != 1 || st.Ratio() < 1 {
		t.Fatalf("after one copy: %+v", st)
	}
	if err := get(getters[1]); !errors.Is(err, pollen.ErrNoPeers) {
		t.Fatalf("the second getter: %v, want %v", err, pollen.ErrNoPeers)
	}
	getters[1].Close()
	var st pollen.SeedStat
	select {
	case st = <-stops:
	default:
		t.Fatal("the seeder did not say it stopped")
	}
	if st.Reason != "ratio 1.2 reached" || st.State != pollen.SeedStopped || st.Peers != 2 {
		t.Errorf("stop: %+v", st)
	}
	if r := st.Ratio(); r < 1.2 || r > 1.3 {
		t.Errorf("stopped at ratio %.3f", r)
	}
	sent := seeder.Traffic()[getters[2].ID()]
	if err := get(getters[2]); !errors.Is(err, pollen.ErrNoPeers) {
		t.Fatalf("a third getter: %v, want %v", err, pollen.ErrNoPeers)
	}
	if now := seeder.Traffic()[getters[2].ID()]; now.Sent != sent.Sent {
		t.Errorf("sent a third getter %d bytes after the stop", now.Sent-sent.Sent)
	}

	two := 2.0
	if st, err := seeder.SetSeeding(res.Root, pollen.SeedChange{Ratio: &two, Resume: true}); err != nil || st.State != pollen.SeedSeeding {
		t.Fatalf("resume at ratio 2: %+v, %v", st, err)
	}
	never := 0.0
	if st, err := seeder.SetSeeding(res.Root, pollen.SeedChange{Ratio: &never}); err != nil || st.State != pollen.SeedSeeding || !st.OwnRatio {
		t.Fatalf("a ratio of its own, never: %+v, %v", st, err)
	}
	if err := get(getters[2]); err != nil {
		t.Fatalf("after resuming: %v", err)
	}
}

// TestSeedPauseAndRestart: a paused root is served to no one, also after
// the node restarts, until it is resumed; what it uploaded is kept.
func TestSeedPauseAndRestart(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	open := func() *pollen.Node {
		n, err := pollen.Open(dir, pollen.Config{
			Listen: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")}, Offline: true, NoMDNS: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.StartNetwork(); err != nil {
			t.Fatal(err)
		}
		return n
	}
	seeder := open()
	var once sync.Once
	closeSeeder := func() { once.Do(func() { seeder.Close() }) }
	defer func() { closeSeeder() }()
	if err := seeder.StartSeeding(nil); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "f.bin")
	if err := testdata.WriteFile(src, 8, 3<<20); err != nil {
		t.Fatal(err)
	}
	res, err := seeder.Share(ctx, src, pollen.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	getters := onlineNodes(t, 3)
	get := func(g *pollen.Node) error {
		_, err := g.Get(ctx, res.Root, t.TempDir(), pollen.GetOptions{
			From: []peer.AddrInfo{seeder.AddrInfo()}, Stall: 4 * time.Second,
		})
		return err
	}
	if err := get(getters[0]); err != nil {
		t.Fatal(err)
	}
	getters[0].Close() // else the next getters fetch from it (peer exchange)
	if st, err := seeder.SetSeeding(res.Root, pollen.SeedChange{Pause: true}); err != nil || st.State != pollen.SeedPaused {
		t.Fatalf("pause: %+v, %v", st, err)
	}
	if err := get(getters[1]); !errors.Is(err, pollen.ErrNoPeers) {
		t.Fatalf("while paused: %v, want %v", err, pollen.ErrNoPeers)
	}
	closeSeeder()

	// Restarted, without StartSeeding (a command that only gets): still
	// paused, and the count kept.
	seeder = open()
	defer seeder.Close()
	st := seedStat(t, seeder)
	if st.State != pollen.SeedPaused || st.Uploaded < 3<<20 || st.Peers != 1 {
		t.Fatalf("after a restart: %+v", st)
	}
	if err := get(getters[1]); !errors.Is(err, pollen.ErrNoPeers) {
		t.Fatalf("paused, after a restart: %v, want %v", err, pollen.ErrNoPeers)
	}
	if _, err := seeder.SetSeeding(res.Root, pollen.SeedChange{Resume: true}); err != nil {
		t.Fatal(err)
	}
	if err := get(getters[2]); err != nil {
		t.Fatalf("resumed: %v", err)
	}
	os.Remove(src)
}
