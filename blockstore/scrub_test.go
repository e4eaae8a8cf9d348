package blockstore_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dag "github.com/ipfs/boxo/ipld/merkledag"
	blocks "github.com/ipfs/go-block-format"
	ipldfmt "github.com/ipfs/go-ipld-format"

	"github.com/pollen-p2p/pollen/blockstore"
	"github.com/pollen-p2p/pollen/blockstore/storetest"
)

// A block a disk damaged is served as it is (serving does not re-hash),
// refused to an export (Get checks), and dropped by a scrub, which keeps
// to its rate; the good blocks stay.
func TestScrubDropsDamagedBlocks(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, false)
	var bl []blocks.Block
	for i := range 8 {
		bl = append(bl, storetest.Block(10+i, 1<<20))
	}
	small := storetest.Block(99, 40) // kept in Badger's tables
	s.PutMany(ctx, append(bl, small))
	packs, _ := filepath.Glob(filepath.Join(dir, "packs", "*.pack"))
	f, err := os.OpenFile(packs[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("XXXXXXXX"), 3<<20+500) // inside the fourth block
	f.Close()
	damaged := bl[3]

	served := false
	s.ServeView(ctx, damaged.Cid(), func(data []byte) error {
		served = !bytes.Equal(data, damaged.RawData())
		return nil
	})
	if !served {
		t.Error("ServeView did not hand out the stored bytes as they are")
	}
	start := time.Now()
	res, err := s.Scrub(ctx, 4<<20)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if res.Checked != 9 || len(res.Dropped) != 1 || res.Dropped[0].Hash().String() != damaged.Cid().Hash().String() {
		t.Fatalf("scrub = checked %d, dropped %v; want 9 and the damaged block", res.Checked, res.Dropped)
	}
	if took < time.Second { // 8 MiB at 4 MiB/s
		t.Errorf("scrubbed 8 MiB at 4 MiB/s in %v", took)
	}
	if ok, _ := s.Has(ctx, damaged.Cid()); ok {
		t.Error("the damaged block is still stored")
	}
	for _, b := range append(bl[:3:3], small) {
		if got, err := s.Get(ctx, b.Cid()); err != nil || !bytes.Equal(got.RawData(), b.RawData()) {
			t.Errorf("a good block after the scrub: %v", err)
		}
	}
	if res, _ := s.Scrub(ctx, 0); len(res.Dropped) != 0 {
		t.Errorf("a second scrub dropped %d", len(res.Dropped))
	}
}

// Get re-hashes a stored block: an export never writes damaged bytes.
func TestGetRefusesDamagedBytes(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, false)
	b := storetest.Block(1, 1<<20)
	s.Put(ctx, b)
	packs, _ := filepath.Glob(filepath.Join(dir, "packs", "*.pack"))
	f, _ := os.OpenFile(packs[0], os.O_RDWR, 0)
	f.WriteAt([]byte("X"), 1000)
	f.Close()
	if _, err := s.Get(ctx, b.Cid()); err == nil {
		t.Fatal("Get returned a damaged block")
	}
	if ok, _ := s.Has(ctx, b.Cid()); ok {
		t.Error("a damaged block read by Get is still stored")
	}
}

// A damaged node of kept content stops GC before it removes anything:
// what the node links to cannot be told from garbage.
func TestGCStopsAtADamagedNode(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, false)
	leaf := storetest.Block(1, 300<<10)
	nd := dag.NodeWithData(bytes.Repeat([]byte("n"), 2000)) // big enough for a pack
	nd.AddRawLink("", &ipldfmt.Link{Cid: leaf.Cid(), Size: uint64(len(leaf.RawData()))})
	garbage := storetest.Block(2, 300<<10)
	s.PutMany(ctx, []blocks.Block{leaf, nd, garbage})
	s.PutRecord(blockstore.Record{Root: nd.Cid(), Kind: blockstore.KindPin})
	// The node went in after the leaf: damage its bytes in the pack.
	packs, _ := filepath.Glob(filepath.Join(dir, "packs", "*.pack"))
	f, _ := os.OpenFile(packs[0], os.O_RDWR, 0)
	f.WriteAt([]byte("XX"), 300<<10+100)
	f.Close()
	_, err := s.GC(ctx)
	if err == nil || !strings.Contains(err.Error(), nd.Cid().String()) {
		t.Fatalf("GC past a damaged node of kept content: %v", err)
	}
	for _, b := range []blocks.Block{leaf, garbage} {
		if ok, _ := s.Has(ctx, b.Cid()); !ok {
			t.Error("GC removed a block though it stopped")
		}
	}
}
