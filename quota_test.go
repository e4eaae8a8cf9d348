package pollen_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

// Quota: a node fetches more than its quota, root by root, from another
// on loopback. The reseed roots used longest ago are evicted, pinned and
// shared ones never, a block a kept root shares with an evicted one stays
// (zero runs, a chunk repeated across files), the store stays under the
// quota after every fetch, and a fetch bigger than the quota is refused
// before its data moves.
func TestQuotaEvictsLeastRecentlyUsed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const mib = 1 << 20
	const quota = 10 * mib
	src := t.TempDir()
	file := func(name string, parts ...[]byte) string {
		p := filepath.Join(src, name)
		var b []byte
		for _, part := range parts {
			b = append(b, part...)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	random := func(seed uint64, n int) []byte {
		b, _ := io.ReadAll(testdata.Reader(seed, int64(n)))
		return b
	}
	zeros := make([]byte, mib)
	common := random(99, mib) // one chunk in a pinned file and a reseed one

	a := openNode(t)
	if err := a.StartNetwork(); err != nil {
		t.Fatal(err)
	}
	cfg := isolated()
	cfg.MaxStorage = quota
	b := startNode(t, cfg)
	from := []peer.AddrInfo{a.AddrInfo()}
	share := func(n *pollen.Node, path string) cid.Cid {
		t.Helper()
		res, err := n.Add(ctx, path, pollen.AddOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return res.Root
	}
	stored := func(when string) int64 {
		t.Helper()
		u, err := b.Usage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if u.Stored > quota {
			t.Fatalf("%s: the store holds %d bytes, over the quota of %d", when, u.Stored, quota)
		}
		return u.Stored
	}
	seed := func(name string, root cid.Cid, pin bool) {
		t.Helper()
		if _, err := b.Seed(ctx, root, pollen.GetOptions{Name: name, From: from, Pin: pin, Stall: 30 * time.Second}); err != nil {
			t.Fatalf("seed %s: %v", name, err)
		}
		t.Logf("after seeding %s: %d bytes stored", name, stored("seed "+name))
	}
	kept := func(names map[string]cid.Cid, want ...string) {
		t.Helper()
		recs, err := b.List()
		if err != nil {
			t.Fatal(err)
		}
		have := map[cid.Cid]pollen.Record{}
		for _, r := range recs {
			have[r.Root] = r
		}
		wanted := map[string]bool{}
		for _, w := range want {
			wanted[w] = true
		}
		for name, root := range names {
			_, ok := have[root]
			if ok != wanted[name] {
				t.Errorf("%s kept: %v, want %v", name, ok, wanted[name])
			}
			if ok && wanted[name] {
				if err := b.Complete(ctx, root); err != nil {
					t.Errorf("%s is kept but not whole: %v", name, err)
				}
			}
		}
	}

	roots := map[string]cid.Cid{
		"shared": share(b, file("shared", random(1, 3*mib/2))),
		"pinned": share(a, file("pinned", common, zeros)),
		"r1":     share(a, file("r1", random(11, 3*mib))),
		"r2":     share(a, file("r2", random(12, 3*mib))),
		"r3":     share(a, file("r3", random(13, 3*mib))),
		"r4":     share(a, file("r4", random(14, 3*mib))),
		"zeros":  share(a, file("zeros", zeros, zeros, zeros, zeros, common)),
		"big":    share(a, file("big", random(20, 11*mib))),
	}
	seed("pinned", roots["pinned"], true)
	seed("r1", roots["r1"], false)
	seed("r2", roots["r2"], false)
	if err := b.Cat(ctx, roots["r1"], io.Discard); err != nil { // r1 is used again: r2 is older now
		t.Fatal(err)
	}
	seed("r3", roots["r3"], false)
	kept(roots, "shared", "pinned", "r1", "r3")

	// 5 MiB declared, all of it here but its top node: fits without
	// evicting anything, though 3 MiB more than the store has room for
	// were declared.
	seed("zeros", roots["zeros"], false)
	kept(roots, "shared", "pinned", "r1", "r3", "zeros")

	// The zero-run file is the oldest now; evicting it must leave the
	// pinned file its zero chunk and the chunk they share.
	time.Sleep(10 * time.Millisecond)
	for _, name := range []string{"r1", "r3"} {
		if err := b.Cat(ctx, roots[name], io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	seed("r4", roots["r4"], false)
	kept(roots, "shared", "pinned", "r3", "r4")
	if v, err := b.Verify(ctx, false); err != nil || len(v.Corrupt) > 0 {
		t.Fatalf("verify: %v %v", v.Corrupt, err)
	}

	// Bigger than the quota: refused once its root block is here, with
	// nothing evicted and next to nothing moved.
	before := b.Traffic()[a.ID()].Received
	_, err := b.Seed(ctx, roots["big"], pollen.GetOptions{From: from, Stall: 30 * time.Second})
	moved := b.Traffic()[a.ID()].Received - before
	if !errors.Is(err, pollen.ErrQuota) {
		t.Fatalf("seeding 11 MiB under a 10 MiB quota: %v, want ErrQuota", err)
	}
	t.Logf("refused: %v (%d bytes moved)", err, moved)
	if moved > 64<<10 {
		t.Errorf("the refused seed moved %d bytes", moved)
	}
	kept(roots, "shared", "pinned", "r3", "r4")
	stored("the refused seed")

	// A get keeps its blocks in the files it writes: they do not count.
	r5 := share(a, file("r5", random(15, 3*mib)))
	was := stored("before a get")
	if _, err := b.Get(ctx, r5, t.TempDir(), pollen.GetOptions{From: from}); err != nil {
		t.Fatal(err)
	}
	if now := stored("after a get"); now-was > 64<<10 {
		t.Errorf("a 3 MiB get took %d bytes of the quota", now-was)
	}
	roots["r5"] = r5
	kept(roots, "shared", "pinned", "r3", "r4", "r5")
	recs, _ := b.List()
	for _, r := range recs {
		if r.Root == r5 && r.Kind != pollen.KindReseed {
			t.Errorf("a get without --pin recorded %q, want reseed", r.Kind)
		}
	}
}

// Seeds running at once each set their room aside: whichever way they
// interleave, each is kept or refused with ErrQuota, the store ends
// under the quota, and the pinned root is whole.
func TestQuotaConcurrentSeeds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const mib = 1 << 20
	const quota = 7 * mib
	a := openNode(t)
	if err := a.StartNetwork(); err != nil {
		t.Fatal(err)
	}
	cfg := isolated()
	cfg.MaxStorage = quota
	b := startNode(t, cfg)
	from := []peer.AddrInfo{a.AddrInfo()}
	var roots []cid.Cid
	for i := range 5 {
		p := filepath.Join(t.TempDir(), "f")
		if err := testdata.WriteFile(p, uint64(60+i), 3*mib/2+int64(i)*mib/2); err != nil {
			t.Fatal(err)
		}
		res, err := a.Add(ctx, p, pollen.AddOptions{})
		if err != nil {
			t.Fatal(err)
		}
		roots = append(roots, res.Root)
	}
	if _, err := b.Seed(ctx, roots[0], pollen.GetOptions{From: from, Pin: true}); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, len(roots)-1)
	for _, r := range roots[1:] {
		go func() {
			_, err := b.Seed(ctx, r, pollen.GetOptions{From: from, Stall: 30 * time.Second})
			errs <- err
		}()
	}
	kept := 0
	for range roots[1:] {
		err := <-errs
		switch {
		case err == nil:
			kept++
		case !errors.Is(err, pollen.ErrQuota):
			t.Errorf("seed: %v", err)
		default:
			t.Logf("refused: %v", err)
		}
	}
	u, err := b.Usage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if u.Stored > quota {
		t.Errorf("%d bytes stored, over the quota of %d", u.Stored, quota)
	}
	if err := b.Complete(ctx, roots[0]); err != nil {
		t.Errorf("the pinned root: %v", err)
	}
	recs, _ := b.List()
	t.Logf("%d of %d seeds kept, %d roots kept now, %d bytes stored", kept, len(roots)-1, len(recs), u.Stored)
}

// A private share seeded under a quota stays private and unannounced,
// and is evicted like any reseed root, its blocks collected.
func TestQuotaPrivateSeedEvicted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const mib = 1 << 20
	a := openNode(t)
	if err := a.StartNetwork(); err != nil {
		t.Fatal(err)
	}
	b, err := pollen.Open(t.TempDir(), pollen.Config{
		Listen: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")}, Offline: true, NoMDNS: true,
		MaxStorage: 5 * mib,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.StartNetwork(); err != nil {
		t.Fatal(err)
	}
	share := func(seed uint64, private bool) pollen.Ticket {
		p := filepath.Join(t.TempDir(), "f")
		if err := testdata.WriteFile(p, seed, 3*mib); err != nil {
			t.Fatal(err)
		}
		res, err := a.Share(ctx, p, pollen.AddOptions{Private: private})
		if err != nil {
			t.Fatal(err)
		}
		return a.Ticket(res.Root)
	}
	priv, pub := share(70, true), share(71, false)
	rec, err := b.Seed(ctx, priv.Root, pollen.GetOptions{From: []peer.AddrInfo{priv.Peer}, Secret: priv.Secret, Stall: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Private() || rec.Kind != pollen.KindReseed {
		t.Fatalf("seeded a private share as %+v", rec)
	}
	if _, err := b.Seed(ctx, pub.Root, pollen.GetOptions{From: []peer.AddrInfo{pub.Peer}, Stall: 30 * time.Second}); err != nil {
		t.Fatal(err)
	}
	recs, _ := b.List()
	if len(recs) != 1 || recs[0].Root != pub.Root {
		t.Errorf("kept %+v, want the public root alone", recs)
	}
	if err := b.Complete(ctx, priv.Root); err == nil {
		t.Error("the evicted private root's blocks are still here")
	}
}
