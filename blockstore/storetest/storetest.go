// Package storetest is the conformance suite every pollen block store must
// pass: any boxo blockstore.Blockstore, run with Run.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	bstore "github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	mh "github.com/multiformats/go-multihash"
)

// Run runs the suite against stores made by open; each subtest gets a
// fresh, empty store.
func Run(t *testing.T, open func(t *testing.T) bstore.Blockstore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, bs bstore.Blockstore)
	}{
		{"PutGet", testPutGet},
		{"MissingIsNotFound", testMissing},
		{"PutManyAndAllKeys", testPutManyAllKeys},
		{"Delete", testDelete},
		{"KeyedByMultihash", testKeyedByMultihash},
		{"PutTwiceKeepsOne", testPutTwice},
		{"BigBlock", testBigBlock},
		{"View", testView},
		{"Concurrent", testConcurrent},
		{"FixedBlocks", testFixedBlocks},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var ctx = context.Background()

// Block returns a raw block with deterministic content for i and size n.
func Block(i, n int) blocks.Block {
	data := bytes.Repeat([]byte(fmt.Sprintf("block %d ", i)), n/8+1)[:n]
	c, _ := cid.V1Builder{Codec: cid.Raw, MhType: mh.SHA2_256}.Sum(data)
	b, _ := blocks.NewBlockWithCid(data, c)
	return b
}

func testPutGet(t *testing.T, bs bstore.Blockstore) {
	b := Block(1, 100)
	if err := bs.Put(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, err := bs.Get(ctx, b.Cid())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.RawData(), b.RawData()) || !got.Cid().Equals(b.Cid()) {
		t.Errorf("Get returned %s (%d bytes), want %s", got.Cid(), len(got.RawData()), b.Cid())
	}
	if ok, err := bs.Has(ctx, b.Cid()); !ok || err != nil {
		t.Errorf("Has = %v, %v; want true", ok, err)
	}
	if n, err := bs.GetSize(ctx, b.Cid()); n != 100 || err != nil {
		t.Errorf("GetSize = %d, %v; want 100", n, err)
	}
}

func testMissing(t *testing.T, bs bstore.Blockstore) {
	c := Block(2, 10).Cid()
	if _, err := bs.Get(ctx, c); !ipld.IsNotFound(err) {
		t.Errorf("Get of a missing block = %v, want ipld.ErrNotFound", err)
	}
	if _, err := bs.GetSize(ctx, c); !ipld.IsNotFound(err) {
		t.Errorf("GetSize of a missing block = %v, want ipld.ErrNotFound", err)
	}
	if ok, err := bs.Has(ctx, c); ok || err != nil {
		t.Errorf("Has of a missing block = %v, %v", ok, err)
	}
}

func testPutManyAllKeys(t *testing.T, bs bstore.Blockstore) {
	var bl []blocks.Block
	want := map[string]bool{}
	for i := range 50 {
		b := Block(i, 10+i)
		bl = append(bl, b)
		want[string(b.Cid().Hash())] = true
	}
	if err := bs.PutMany(ctx, bl); err != nil {
		t.Fatal(err)
	}
	ch, err := bs.AllKeysChan(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for c := range ch {
		if !want[string(c.Hash())] {
			t.Errorf("AllKeysChan gave unknown %s", c)
		}
		delete(want, string(c.Hash()))
	}
	if len(want) != 0 {
		t.Errorf("AllKeysChan missed %d blocks", len(want))
	}
}

func testDelete(t *testing.T, bs bstore.Blockstore) {
	b := Block(3, 10)
	bs.Put(ctx, b)
	if err := bs.DeleteBlock(ctx, b.Cid()); err != nil {
		t.Fatal(err)
	}
	if ok, _ := bs.Has(ctx, b.Cid()); ok {
		t.Error("block still there after DeleteBlock")
	}
	if err := bs.DeleteBlock(ctx, b.Cid()); err != nil && !ipld.IsNotFound(err) {
		t.Errorf("second DeleteBlock = %v", err)
	}
}

func testKeyedByMultihash(t *testing.T, bs bstore.Blockstore) {
	b := Block(4, 10)
	v0 := cid.NewCidV0(b.Cid().Hash())
	v1pb := cid.NewCidV1(cid.DagProtobuf, b.Cid().Hash())
	bs.Put(ctx, b)
	for _, c := range []cid.Cid{v0, v1pb} {
		got, err := bs.Get(ctx, c)
		if err != nil {
			t.Errorf("Get(%s) of the same multihash: %v", c, err)
			continue
		}
		if !got.Cid().Equals(c) {
			t.Errorf("Get(%s) returned CID %s", c, got.Cid())
		}
	}
}

func testPutTwice(t *testing.T, bs bstore.Blockstore) {
	b := Block(5, 10)
	for range 2 {
		if err := bs.PutMany(ctx, []blocks.Block{b, b}); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	ch, _ := bs.AllKeysChan(ctx)
	for range ch {
		n++
	}
	if n != 1 {
		t.Errorf("%d keys after putting one block four times", n)
	}
}

// testBigBlock stores big blocks of odd and even sizes one after the
// other, in one batch and alone, and reads each back.
func testBigBlock(t *testing.T, bs bstore.Blockstore) {
	var all []blocks.Block
	for i, size := range []int{1 << 20, 300001, 1 << 20, 65536 + 1, 1<<20 - 1} {
		all = append(all, Block(60+i, size))
	}
	if err := bs.Put(ctx, all[0]); err != nil {
		t.Fatal(err)
	}
	if err := bs.PutMany(ctx, all[1:]); err != nil {
		t.Fatal(err)
	}
	for _, b := range all {
		got, err := bs.Get(ctx, b.Cid())
		if err != nil || !bytes.Equal(got.RawData(), b.RawData()) {
			t.Errorf("block of %d bytes did not round-trip: %v", len(b.RawData()), err)
		}
	}
}

func testView(t *testing.T, bs bstore.Blockstore) {
	v, ok := bs.(bstore.Viewer)
	if !ok {
		t.Skip("store has no View")
	}
	b := Block(7, 10)
	bs.Put(ctx, b)
	var got []byte
	if err := v.View(ctx, b.Cid(), func(d []byte) error { got = append(got, d...); return nil }); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, b.RawData()) {
		t.Error("View gave other bytes")
	}
	err := v.View(ctx, Block(8, 10).Cid(), func([]byte) error { return nil })
	if !ipld.IsNotFound(err) && !errors.Is(err, ipld.ErrNotFound{}) {
		t.Errorf("View of a missing block = %v", err)
	}

	// Big and small blocks viewed by several readers at once, each one
	// right while fn runs, and a block from Get stays intact after other
	// blocks are viewed (a store may reuse View's buffers).
	var bl []blocks.Block
	for i, n := range []int{1 << 20, 300 << 10, 10, (1 << 20) + 1, 64 << 10, 700 << 10} {
		bl = append(bl, Block(100+i, n))
	}
	if err := bs.PutMany(ctx, bl); err != nil {
		t.Fatal(err)
	}
	kept, err := bs.Get(ctx, bl[0].Cid())
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bl[1:] {
		v.View(ctx, b.Cid(), func([]byte) error { return nil })
	}
	if !bytes.Equal(kept.RawData(), bl[0].RawData()) {
		t.Error("a block from Get changed when other blocks were viewed")
	}
	var wg sync.WaitGroup
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 3 * len(bl) {
				b := bl[(k*(r+1))%len(bl)]
				err := v.View(ctx, b.Cid(), func(d []byte) error {
					if !bytes.Equal(d, b.RawData()) {
						return fmt.Errorf("%d bytes of other content", len(d))
					}
					return nil
				})
				if err != nil {
					t.Errorf("View of a %d-byte block: %v", len(b.RawData()), err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// testConcurrent puts and reads from several goroutines at once, as the
// exchange does; run it under -race.
func testConcurrent(t *testing.T, bs bstore.Blockstore) {
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 8 {
				b := Block(1000+g*100+i, 100<<10)
				if err := bs.PutMany(ctx, []blocks.Block{b, Block(i, 10)}); err != nil {
					t.Error(err)
					return
				}
				got, err := bs.Get(ctx, b.Cid())
				if err != nil || !bytes.Equal(got.RawData(), b.RawData()) {
					t.Errorf("read back %s: %v", b.Cid(), err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// testFixedBlocks: the empty block and identity CIDs are there without
// ever being put, since their CID fixes their bytes.
func testFixedBlocks(t *testing.T, bs bstore.Blockstore) {
	empty, _ := cid.V1Builder{Codec: cid.Raw, MhType: mh.SHA2_256}.Sum(nil)
	id, _ := cid.V1Builder{Codec: cid.Raw, MhType: mh.IDENTITY}.Sum([]byte("tiny"))
	for c, want := range map[cid.Cid]string{empty: "", id: "tiny"} {
		if ok, err := bs.Has(ctx, c); !ok || err != nil {
			t.Errorf("Has(%s) = %v, %v", c, ok, err)
		}
		b, err := bs.Get(ctx, c)
		if err != nil || string(b.RawData()) != want {
			t.Errorf("Get(%s) = %v, %v; want %q", c, b, err, want)
		}
	}
}
