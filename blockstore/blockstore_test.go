package blockstore_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	bstore "github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"

	"github.com/pollen-p2p/pollen/blockstore"
	"github.com/pollen-p2p/pollen/blockstore/storetest"
)

func open(t *testing.T, dir string, inMem bool) *blockstore.Store {
	t.Helper()
	s, err := blockstore.Open(dir, blockstore.Options{InMemory: inMem})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformanceInMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) bstore.Blockstore { return open(t, "", true) })
}

func TestConformanceOnDisk(t *testing.T) {
	storetest.Run(t, func(t *testing.T) bstore.Blockstore { return open(t, t.TempDir(), false) })
}

// On tmpfs too, where packs live in memory.
func TestConformanceOnTmpfs(t *testing.T) {
	if fi, err := os.Stat("/dev/shm"); err != nil || !fi.IsDir() {
		t.Skip("no /dev/shm here")
	}
	storetest.Run(t, func(t *testing.T) bstore.Blockstore {
		dir, err := os.MkdirTemp("/dev/shm", "pollen-test-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		return open(t, dir, false)
	})
}

var ctx = context.Background()

func TestRecordsSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := blockstore.Open(dir, blockstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := storetest.Block(1, 100)
	s.Put(ctx, b)
	rec := blockstore.Record{Root: b.Cid(), Kind: blockstore.KindShare, Name: "x", Size: 100, Added: time.Now().UTC().Truncate(time.Second)}
	if err := s.PutRecord(rec); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, dir, false)
	recs, err := s.Records()
	if err != nil || len(recs) != 1 || recs[0].Root != rec.Root || recs[0].Name != "x" || recs[0].Kind != blockstore.KindShare {
		t.Fatalf("records after reopen = %+v, %v", recs, err)
	}
	if ok, _ := s.Has(ctx, b.Cid()); !ok {
		t.Error("block lost after reopen")
	}
	if of, err := s.RecordsOf(rec.Root); err != nil || len(of) != 1 || of[0].Name != "x" {
		t.Errorf("RecordsOf = %+v, %v", of, err)
	}
	if found, err := s.DeleteRecords(rec.Root); !found || err != nil {
		t.Errorf("DeleteRecords = %v, %v", found, err)
	}
	if recs, _ := s.Records(); len(recs) != 0 {
		t.Errorf("records after delete: %+v", recs)
	}
}

func TestGCKeepsRecordedAndReclaimsSpace(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, false)
	keep := storetest.Block(1, 1<<20)
	var drop []blocks.Block
	for i := range 200 {
		drop = append(drop, storetest.Block(100+i, 1<<20))
	}
	s.PutMany(ctx, append(drop, keep))
	s.PutRecord(blockstore.Record{Root: keep.Cid(), Kind: blockstore.KindPin})
	before, _ := s.Stat(ctx)
	res, err := s.GC(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Removed != 200 || res.Kept != 1 {
		t.Errorf("GC removed %d kept %d, want 200 and 1", res.Removed, res.Kept)
	}
	if ok, _ := s.Has(ctx, keep.Cid()); !ok {
		t.Error("GC removed a pinned block")
	}
	after, _ := s.Stat(ctx)
	if after.Blocks != 1 {
		t.Errorf("%d blocks after GC, want 1", after.Blocks)
	}
	t.Logf("on disk: %d bytes before, %d after", before.Disk, after.Disk)
	if after.Disk > before.Disk/10 {
		t.Errorf("store still takes %d bytes on disk after GC (was %d)", after.Disk, before.Disk)
	}
}

func TestVerifyFindsAndDropsCorruptBlocks(t *testing.T) {
	s := open(t, t.TempDir(), false)
	good := storetest.Block(1, 1000)
	bad := storetest.Block(2, 1000)
	// A block stored under the wrong bytes, as a bad disk or a bug would.
	corrupt, _ := blocks.NewBlockWithCid([]byte("not what the hash says"), bad.Cid())
	s.PutMany(ctx, []blocks.Block{good, corrupt})
	res, err := s.Verify(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Checked != 2 || len(res.Corrupt) != 1 || res.Corrupt[0].Hash().String() != bad.Cid().Hash().String() {
		t.Fatalf("verify = %+v, want 1 corrupt of 2", res)
	}
	if ok, _ := s.Has(ctx, bad.Cid()); !ok {
		t.Error("verify without drop removed the block")
	}
	res, err = s.Verify(ctx, true)
	if err != nil || res.Dropped != 1 {
		t.Fatalf("verify --drop = %+v, %v", res, err)
	}
	if ok, _ := s.Has(ctx, bad.Cid()); ok {
		t.Error("corrupt block still there after drop")
	}
	if ok, _ := s.Has(ctx, good.Cid()); !ok {
		t.Error("drop removed a good block")
	}
}

func TestOnDiskPathInError(t *testing.T) {
	_, err := blockstore.Open(filepath.Join("/proc", "no-such", "repo"), blockstore.Options{})
	if err == nil {
		t.Fatal("opening a store under /proc succeeded")
	}
}

func TestVerifyFindsDamagedPacks(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, false)
	flipped := storetest.Block(1, 1<<20)
	cut := storetest.Block(2, 1<<20)
	s.PutMany(ctx, []blocks.Block{flipped, cut})
	packs, _ := filepath.Glob(filepath.Join(dir, "packs", "*.pack"))
	if len(packs) != 1 {
		t.Fatalf("packs: %v", packs)
	}
	f, err := os.OpenFile(packs[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("X"), 1000) // one byte of the first block
	f.Truncate(1<<20 + 1000)     // most of the second
	f.Close()
	if _, err := s.Get(ctx, cut.Cid()); err == nil {
		t.Error("Get of a block cut off its pack succeeded")
	}
	res, err := s.Verify(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Corrupt) != 2 || res.Dropped != 2 {
		t.Errorf("verify --drop = %+v, want 2 corrupt, 2 dropped", res)
	}
	if ok, _ := s.Has(ctx, cut.Cid()); ok {
		t.Error("damaged block still indexed after drop")
	}
}

func TestGCCompactsPacks(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, false)
	var all []blocks.Block
	for i := range 300 { // more than one pack
		all = append(all, storetest.Block(i, 1<<20))
	}
	if err := s.PutMany(ctx, all); err != nil {
		t.Fatal(err)
	}
	// Keep every tenth block, each its own root.
	for i := 0; i < len(all); i += 10 {
		s.PutRecord(blockstore.Record{Root: all[i].Cid(), Kind: blockstore.KindPin})
	}
	before, _ := s.Stat(ctx)
	res, err := s.GC(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Kept != 30 || res.Removed != 270 {
		t.Errorf("GC kept %d removed %d, want 30 and 270", res.Kept, res.Removed)
	}
	after, _ := s.Stat(ctx)
	t.Logf("on disk: %d MiB before, %d MiB after", before.Disk>>20, after.Disk>>20)
	if after.Disk > 60<<20 {
		t.Errorf("store takes %d MiB on disk after GC, want about 30", after.Disk>>20)
	}
	for i := 0; i < len(all); i += 10 {
		got, err := s.Get(ctx, all[i].Cid())
		if err != nil || !bytes.Equal(got.RawData(), all[i].RawData()) {
			t.Fatalf("kept block %d after GC: %v", i, err)
		}
	}
	// And once more after a reopen, as the next command would see it.
	s.Close()
	s = open(t, dir, false)
	if v, err := s.Verify(ctx, false); err != nil || len(v.Corrupt) != 0 || v.Checked != 30 {
		t.Errorf("verify after GC and reopen = %+v, %v", v, err)
	}
}

// A Sync that comes after Close (a get reaching its commit point while
// the node closes) fails with ErrClosed instead of crashing the process.
func TestSyncAfterClose(t *testing.T) {
	s, err := blockstore.Open(t.TempDir(), blockstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Sync(); !errors.Is(err, blockstore.ErrClosed) {
		t.Fatalf("Sync after Close: %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
}
