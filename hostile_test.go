package pollen_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	bstore "github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/internal/hostile"
)

// A sharer serving DAGs built to ruin whoever gets them: each get fails
// within seconds with the error that names the problem, writes nothing,
// and leaves the getter able to get honest content.
func TestGetRefusesBombsFromAPeer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h, err := hostile.NewHost()
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	bs := bstore.NewBlockstore(dssync.MutexWrap(ds.NewMapDatastore()))
	bsw := hostile.Seeder(ctx, h, bs)
	defer bsw.Close()
	evil := peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}

	getter := openNode(t)
	if err := getter.StartNetwork(); err != nil {
		t.Fatal(err)
	}
	bombs := []struct {
		name string
		make func() (cid.Cid, error)
		want error
	}{
		{"6 TB in three blocks", func() (cid.Cid, error) { return hostile.SizeBomb(ctx, bs, 10000, 60000) }, pollen.ErrNoSpace},
		{"400 million paths", func() (cid.Cid, error) { return hostile.EntryBomb(ctx, bs, 20000) }, pollen.ErrTooLarge},
		{"100,000 nested folders", func() (cid.Cid, error) { return hostile.DeepChain(ctx, bs, 100000) }, pollen.ErrTooLarge},
		{"a 1 MB identity CID", func() (cid.Cid, error) { return hostile.IdentityBomb(ctx, bs, 1000000) }, pollen.ErrUnsafeCID},
	}
	for _, b := range bombs {
		root, err := b.make()
		if err != nil {
			t.Fatal(err)
		}
		out := t.TempDir()
		start := time.Now()
		_, err = getter.Get(ctx, root, out, pollen.GetOptions{Name: "bomb", From: []peer.AddrInfo{evil}, Stall: 20 * time.Second})
		took := time.Since(start)
		t.Logf("%s: refused in %v", b.name, took.Round(time.Millisecond))
		if !errors.Is(err, b.want) {
			t.Errorf("%s: get = %v, want %v", b.name, err, b.want)
		}
		if took > 10*time.Second {
			t.Errorf("%s: took %v to refuse", b.name, took)
		}
		if left, _ := os.ReadDir(out); len(left) > 0 {
			t.Errorf("%s: left %v in the target", b.name, left)
		}
	}
	// Still able to get honest content from the same peer.
	root, err := hostile.NamedFolder(ctx, bs, "a.txt", "b.txt")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := getter.Get(ctx, root, t.TempDir(), pollen.GetOptions{Name: "ok", From: []peer.AddrInfo{evil}, Stall: 20 * time.Second}); err != nil {
		t.Fatalf("an honest get after the bombs: %v", err)
	}
}
