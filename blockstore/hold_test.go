package blockstore_test

import (
	"testing"

	blocks "github.com/ipfs/go-block-format"

	"github.com/pollen-p2p/pollen/blockstore/storetest"
)

// A hold keeps its root's stored DAG and every block written after it
// began, and nothing older that no root reaches; released, GC takes them.
func TestGCKeepsWhatAHoldNeeds(t *testing.T) {
	for _, inMem := range []bool{false, true} {
		s := open(t, t.TempDir(), inMem)
		root := storetest.Block(1, 1<<10) // stands for a root found stored
		old := storetest.Block(2, 300<<10)
		s.PutMany(ctx, []blocks.Block{root, old})
		release := s.Hold(root.Cid())
		fresh := storetest.Block(3, 300<<10) // written by the held get
		s.Put(ctx, fresh)
		res, err := s.GC(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Removed != 1 || res.Kept != 2 {
			t.Errorf("in memory %v: GC with a hold removed %d kept %d, want 1 and 2", inMem, res.Removed, res.Kept)
		}
		if ok, _ := s.Has(ctx, fresh.Cid()); !ok {
			t.Error("GC took a block written after the hold began")
		}
		if ok, _ := s.Has(ctx, old.Cid()); ok {
			t.Error("GC kept a block no root reaches, written before the hold")
		}
		release()
		release() // twice is harmless
		if res, _ := s.GC(ctx); res.Removed != 2 {
			t.Errorf("GC after release removed %d, want 2", res.Removed)
		}
	}
}
