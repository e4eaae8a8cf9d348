package exchange

import (
	"bytes"
	"context"
	"testing"
	"time"

	bstore "github.com/ipfs/boxo/blockstore"
	dag "github.com/ipfs/boxo/ipld/merkledag"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// fileDAG puts a file of n leaves of 256 KiB into bs and returns its root
// and leaves.
func fileDAG(t *testing.T, bs bstore.Blockstore, n int) (cid.Cid, []blocks.Block) {
	t.Helper()
	root := dag.NodeWithData(nil)
	var leaves []blocks.Block
	for i := range n {
		data := bytes.Repeat([]byte{byte(i), byte(i >> 8), 7}, 256<<10/3)
		b, _ := blocks.NewBlockWithCid(data, mustSum(t, cid.Raw, data))
		leaves = append(leaves, b)
		root.AddRawLink("", &ipld.Link{Cid: b.Cid(), Size: uint64(len(data))})
	}
	ctx := context.Background()
	if err := bs.PutMany(ctx, append(leaves, root)); err != nil {
		t.Fatal(err)
	}
	return root.Cid(), leaves
}

// damage stores other bytes under b's CID, as a disk that flips bits does.
func damage(t *testing.T, bs bstore.Blockstore, b blocks.Block) {
	t.Helper()
	bad := bytes.Clone(b.RawData())
	bad[len(bad)/2] ^= 0xff
	if err := bs.DeleteBlock(context.Background(), b.Cid()); err != nil {
		t.Fatal(err)
	}
	nb, _ := blocks.NewBlockWithCid(bad, b.Cid())
	if err := bs.Put(context.Background(), nb); err != nil {
		t.Fatal(err)
	}
}

// A seeder whose store damaged one block drops it instead of serving it;
// the getter takes that block from an honest peer and the rest from
// both, and cuts nobody off.
func TestDamagedStoredBlockIsDroppedNotServed(t *testing.T) {
	damaged, dbs := testExchange(t)
	honest, hbs := testExchange(t)
	getter, gbs := testExchange(t)
	root, leaves := fileDAG(t, dbs, 12)
	fileDAG(t, hbs, 12)
	damage(t, dbs, leaves[5])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Asked of the damaged seeder alone, the block is not sent.
	if err := getter.h.Connect(ctx, peerInfo(damaged)); err != nil {
		t.Fatal(err)
	}
	if err := getter.Fetch(ctx, leaves[5].Cid(), FetchOptions{Stall: 2 * time.Second}); err == nil {
		t.Fatal("fetched a block only a damaged store holds")
	}
	if err := getter.h.Connect(ctx, peerInfo(honest)); err != nil {
		t.Fatal(err)
	}
	if err := getter.Fetch(ctx, root, FetchOptions{Stall: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
	for _, l := range leaves {
		got, err := gbs.Get(ctx, l.Cid())
		if err != nil || !bytes.Equal(got.RawData(), l.RawData()) {
			t.Fatalf("leaf %s: %v; want the right bytes", l.Cid(), err)
		}
	}
	if ok, _ := dbs.Has(ctx, leaves[5].Cid()); ok {
		t.Error("the damaged seeder still holds the damaged block")
	}
	if getter.h.Network().Connectedness(damaged.h.ID()) != network.Connected {
		t.Error("the getter cut off a seeder with one damaged block")
	}
}

// halfLiar serves a store's blocks over ProtoHave and ProtoBlocks, but
// other bytes for the blocks lie names.
func halfLiar(t *testing.T, bs bstore.Blockstore, lie map[cid.Cid]bool) peer.AddrInfo {
	h := fakePeer(t, func(c cid.Cid) ([]byte, bool) {
		b, err := bs.Get(context.Background(), c)
		if err != nil {
			return nil, false
		}
		if lie[c] {
			return bytes.Repeat([]byte("lies "), len(b.RawData())/5), true
		}
		return b.RawData(), true
	})
	return peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}
}

// A peer that sends wrong bytes for one block is not trusted for it: the
// block is dropped and counted, the rest of what it sends is kept, and
// the get finishes once an honest peer has that block.
func TestOneDamagedBlockFailsOnlyThatBlock(t *testing.T) {
	getter, gbs := testExchange(t)
	_, hbs := testExchange(t)
	root, leaves := fileDAG(t, hbs, 12)
	liar := halfLiar(t, hbs, map[cid.Cid]bool{leaves[5].Cid(): true})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := getter.h.Connect(ctx, liar); err != nil {
		t.Fatal(err)
	}
	var last Progress
	err := getter.Fetch(ctx, root, FetchOptions{Stall: 2 * time.Second, Report: func(p Progress) { last = p }})
	if err == nil {
		t.Fatal("a fetch whose only holder of a block lies about it succeeded")
	}
	for i, l := range leaves {
		ok, _ := gbs.Has(ctx, l.Cid())
		if ok != (i != 5) {
			t.Errorf("leaf %d stored: %v", i, ok)
		}
	}
	if last.Damaged != 1 {
		t.Errorf("progress counts %d damaged blocks, want 1", last.Damaged)
	}
	if getter.h.Network().Connectedness(liar.ID) != network.Connected {
		t.Error("cut off a peer after one damaged block")
	}

	honest := New(testHost(t), hbs, Config{})
	t.Cleanup(func() { honest.Close() })
	if err := getter.h.Connect(ctx, peer.AddrInfo{ID: honest.h.ID(), Addrs: honest.h.Addrs()}); err != nil {
		t.Fatal(err)
	}
	if err := getter.Fetch(ctx, root, FetchOptions{Stall: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
	got, err := gbs.Get(ctx, leaves[5].Cid())
	if err != nil || !bytes.Equal(got.RawData(), leaves[5].RawData()) {
		t.Fatalf("leaf 5: %v; want the honest bytes", err)
	}
}
