package exchange_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	dag "github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen/chunker"
	"github.com/pollen-p2p/pollen/exchange"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

// importFile adds a file of size bytes to n's store and returns its root
// and leaves.
func importFile(t *testing.T, n *node, size int64) (cid.Cid, []cid.Cid) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "data.bin")
	if err := testdata.WriteFile(src, 7, size); err != nil {
		t.Fatal(err)
	}
	res, err := chunker.Import(context.Background(), n.bs, src, chunker.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := n.bs.Get(context.Background(), res.Root)
	if err != nil {
		t.Fatal(err)
	}
	root, err := dag.DecodeProtobuf(b.RawData())
	if err != nil {
		t.Fatal(err)
	}
	var leaves []cid.Cid
	for _, l := range root.Links() {
		leaves = append(leaves, l.Cid)
	}
	return res.Root, leaves
}

// copyBlocks puts the blocks cs of from into to.
func copyBlocks(t *testing.T, from, to *node, cs ...cid.Cid) {
	t.Helper()
	for _, c := range cs {
		b, err := from.bs.Get(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if err := to.bs.Put(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
}

// Two peers each hold half of a file: the getter learns who holds what
// and asks each for its half, without Bitswap.
func TestFetchFromPeersHoldingHalves(t *testing.T) {
	origin := newNode(t)
	root, leaves := importFile(t, origin, 16*testdata.MiB)
	a, b, getter := newNode(t), newNode(t), newNode(t)
	copyBlocks(t, origin, a, append([]cid.Cid{root}, leaves[:8]...)...)
	copyBlocks(t, origin, b, append([]cid.Cid{root}, leaves[8:]...)...)
	connect(t, getter, a)
	connect(t, getter, b)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var last exchange.Progress
	if err := getter.ex.Fetch(ctx, root, exchange.FetchOptions{Stall: 20 * time.Second, Report: func(p exchange.Progress) { last = p }}); err != nil {
		t.Fatal(err)
	}
	for _, c := range leaves {
		if ok, _ := getter.bs.Has(ctx, c); !ok {
			t.Fatalf("leaf %s missing after the fetch", c)
		}
	}
	for name, p := range map[string]peer.ID{"a": a.h.ID(), "b": b.h.ID()} {
		if got := last.Peers[p]; got < 8*testdata.MiB {
			t.Errorf("peer %s sent %d bytes, want its half (%d)", name, got, 8*testdata.MiB)
		}
	}
	if bs := getter.ex.Bitswap(); bs.BlocksReceived-bs.DupBlocksReceived > 1 {
		t.Errorf("%d blocks came over Bitswap; only the root should", bs.BlocksReceived-bs.DupBlocksReceived)
	}
}

// A getter serves what it has fetched while it is still fetching: a
// second getter connected only to the first gets the whole file from it.
func TestGetterServesWhileFetching(t *testing.T) {
	seeder, first, second := newNode(t), newNode(t), newNode(t)
	root, _ := importFile(t, seeder, 48*testdata.MiB)
	connect(t, first, seeder)
	connect(t, second, first)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	started := make(chan struct{})
	var once atomic.Bool
	firstDone := make(chan error, 1)
	go func() {
		firstDone <- first.ex.Fetch(ctx, root, exchange.FetchOptions{Stall: 20 * time.Second, Report: func(p exchange.Progress) {
			if p.Blocks > 1 && once.CompareAndSwap(false, true) {
				close(started)
			}
		}})
	}()
	<-started
	var last exchange.Progress
	if err := second.ex.Fetch(ctx, root, exchange.FetchOptions{Stall: 20 * time.Second, Report: func(p exchange.Progress) { last = p }}); err != nil {
		t.Fatal(err)
	}
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	if got := last.Peers[first.h.ID()]; got < 48*testdata.MiB {
		t.Errorf("the first getter sent %d bytes, want all %d", got, 48*testdata.MiB)
	}
}
