package blockstore

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"github.com/pollen-p2p/pollen/internal/testdata"
)

// fillDisk writes a file beside dir until the disk is full, as another
// program would, and returns its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "eater")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return path
		}
	}
}

func randomBlock(t *testing.T, n int) blocks.Block {
	t.Helper()
	data := make([]byte, n)
	rand.Read(data)
	h, _ := mh.Sum(data, mh.SHA2_256, -1)
	b, err := blocks.NewBlockWithCid(data, cid.NewCidV1(cid.Raw, h))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func openStore(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// assertDiskFull checks err is ErrDiskFull, told in one line that names
// the store's folder.
func assertDiskFull(t *testing.T, err error, dir string) {
	t.Helper()
	if !errors.Is(err, ErrDiskFull) {
		t.Fatalf("got %v, want ErrDiskFull", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "disk full: ") || !strings.Contains(msg, " free on "+dir) {
		t.Errorf("message %q: want one line saying disk full and free space on %s", msg, dir)
	}
}

// fillStore puts batches of four 1 MiB blocks until the store refuses
// one, and returns how many blocks it holds and the refusal.
func fillStore(t *testing.T, s *Store) (int, error) {
	t.Helper()
	n := 0
	for {
		var bs []blocks.Block
		for range 4 {
			bs = append(bs, randomBlock(t, 1<<20))
		}
		if err := s.PutMany(context.Background(), bs); err != nil {
			// A refused batch writes nothing.
			st, serr := s.Stat(context.Background())
			if serr != nil || st.Blocks != n {
				t.Errorf("after a refused batch the store holds %d blocks (%v), want %d", st.Blocks, serr, n)
			}
			return n, err
		}
		n += len(bs)
	}
}

func TestDiskFullRefusesWrites(t *testing.T) {
	disk := testdata.SmallDisk(t, "96m")
	dir := filepath.Join(disk, "blocks")
	ctx := context.Background()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := fillStore(t, s)
	assertDiskFull(t, err, dir)
	free, _ := freeBytes(disk)
	t.Logf("stored %d MiB, refused with %v; %d MiB left free", n, err, free>>20)
	if n < 40 {
		t.Errorf("refused after %d MiB on a 96 MiB disk: the reserve is too big", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Open again and free the space: the blocks have no record, so GC
	// drops them all.
	s = openStore(t, dir)
	if st, err := s.Stat(ctx); err != nil || st.Blocks != n {
		t.Fatalf("stat after reopen: %d blocks, %v; want %d", st.Blocks, err, n)
	}
	if res, err := s.Verify(ctx, false); err != nil || len(res.Corrupt) != 0 {
		t.Fatalf("verify: %+v, %v", res, err)
	}
	if res, err := s.GC(ctx); err != nil || res.Removed != n {
		t.Fatalf("gc: %+v, %v", res, err)
	}
	after, _ := freeBytes(disk)
	if after < free+int64(n)<<20*9/10 {
		t.Errorf("gc freed %d MiB, want about %d", (after-free)>>20, n)
	}
	if err := s.PutMany(ctx, []blocks.Block{randomBlock(t, 1<<20)}); err != nil {
		t.Errorf("put after gc: %v", err)
	}
}

func TestDiskFilledFromOutside(t *testing.T) {
	disk := testdata.SmallDisk(t, "96m")
	dir := filepath.Join(disk, "blocks")
	ctx := context.Background()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	kept, dropped := randomBlock(t, 1<<20), randomBlock(t, 1<<20)
	if err := s.PutMany(ctx, []blocks.Block{kept, dropped}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecord(Record{Root: kept.Cid(), Kind: KindPin}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	spare := filepath.Join(dir, spareName)
	if fi, err := os.Stat(spare); err != nil || fi.Size() != s.space.spareLen {
		t.Fatalf("no spare file of %d bytes: %v", s.space.spareLen, err)
	}

	// Full disk, spare there: Open deletes it and the store works.
	eater := fillDisk(t, disk)
	s = openStore(t, dir)
	if _, err := os.Stat(spare); err == nil {
		t.Error("spare file still there on a full disk")
	}
	if res, err := s.Verify(ctx, false); err != nil || res.Checked != 2 {
		t.Fatalf("verify: %+v, %v", res, err)
	}
	assertDiskFull(t, s.PutMany(ctx, []blocks.Block{randomBlock(t, 1<<20)}), dir)
	if res, err := s.GC(ctx); err != nil || res.Removed != 1 {
		t.Fatalf("gc: %+v, %v", res, err)
	}
	s.Close()

	// Full disk, no spare, no log to replay: read-only.
	os.Remove(spare)
	fillDisk(t, disk)
	s = openStore(t, dir)
	if ok, err := s.Has(ctx, kept.Cid()); !ok || err != nil {
		t.Fatalf("read-only store lost a block: %v", err)
	}
	if _, err := s.Stat(ctx); err != nil {
		t.Fatal(err)
	}
	assertDiskFull(t, s.PutMany(ctx, []blocks.Block{randomBlock(t, 1<<20)}), dir)
	_, err = s.GC(ctx)
	assertDiskFull(t, err, dir)
	_, err = s.DeleteRecords(kept.Cid())
	assertDiskFull(t, err, dir)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Space back: writable, and the spare is made again.
	os.Remove(eater)
	s = openStore(t, dir)
	if _, err := os.Stat(spare); err != nil {
		t.Errorf("spare not made again: %v", err)
	}
	if err := s.PutMany(ctx, []blocks.Block{randomBlock(t, 1<<20)}); err != nil {
		t.Fatal(err)
	}
}

// TestCrashedStoreOnFullDisk opens a store that a process left without
// closing it, so that Badger must replay its log, on a full disk.
func TestCrashedStoreOnFullDisk(t *testing.T) {
	disk := testdata.SmallDisk(t, "96m")
	dir := filepath.Join(disk, "blocks")
	ctx := context.Background()
	crash := func() cid.Cid {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperCrash$")
		cmd.Env = append(os.Environ(), "POLLEN_TEST_CRASH_STORE="+dir)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("helper: %v\n%s", err, out)
		}
		logs, _ := filepath.Glob(filepath.Join(dir, "index", "*.mem"))
		if len(logs) == 0 {
			t.Fatal("the helper left no log to replay")
		}
		c, err := cid.Decode(strings.TrimSpace(string(out[strings.LastIndex(string(out), "cid=")+4:])))
		if err != nil {
			t.Fatalf("helper said %q", out)
		}
		return c
	}
	spare := filepath.Join(dir, spareName)

	// The spare gives Badger room to replay.
	c := crash()
	eater := fillDisk(t, disk)
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("open with a spare: %v", err)
	}
	if ok, _ := s.Has(ctx, c); !ok {
		t.Error("replayed store lost a block")
	}
	s.Close()
	os.Remove(eater)

	// No spare: refused, and no crash.
	crash()
	os.Remove(spare)
	eater = fillDisk(t, disk)
	_, err = Open(dir, Options{})
	assertDiskFull(t, err, dir)
	os.Remove(eater)
	s = openStore(t, dir)
	if ok, _ := s.Has(ctx, c); !ok {
		t.Error("store lost a block")
	}
}

// TestHelperCrash is run by TestCrashedStoreOnFullDisk in a process of
// its own: it writes to a store and exits without closing it.
func TestHelperCrash(t *testing.T) {
	dir := os.Getenv("POLLEN_TEST_CRASH_STORE")
	if dir == "" {
		t.Skip("helper process for TestCrashedStoreOnFullDisk")
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b := randomBlock(t, 1<<20)
	if err := s.PutMany(context.Background(), []blocks.Block{b, randomBlock(t, 100)}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecord(Record{Root: b.Cid(), Kind: KindPin, Added: time.Now()}); err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("cid=" + b.Cid().String() + "\n")
	os.Exit(0)
}

// A pack write that meets a full disk anyway (the disk filled between
// the check and the write) is ErrDiskFull too.
func TestPackWriteOnFullDisk(t *testing.T) {
	disk := testdata.SmallDisk(t, "1m")
	p, err := openPackDir(filepath.Join(disk, "packs"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	// Admit everything, as if the check had seen room.
	p.space = &space{dir: disk, scanned: time.Now(), headroom: -1 << 40}
	_, err = p.append([][]byte{make([]byte, 2<<20)})
	assertDiskFull(t, err, disk)
}

// Blocks under packThreshold live in Badger itself, so filling the disk
// with them fills its logs and tables, and makes it flush and compact.
func TestDiskFullWithSmallBlocks(t *testing.T) {
	disk := testdata.SmallDisk(t, "160m")
	dir := filepath.Join(disk, "blocks")
	ctx := context.Background()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		var bs []blocks.Block
		for range 10_000 {
			bs = append(bs, randomBlock(t, packThreshold-1))
		}
		if err = s.PutMany(ctx, bs); err != nil {
			break
		}
		n += len(bs)
	}
	assertDiskFull(t, err, dir)
	free, _ := freeBytes(disk)
	t.Logf("stored %d blocks of %d bytes, refused with %v; %d MiB left free", n, packThreshold-1, err, free>>20)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir)
	if st, err := s.Stat(ctx); err != nil || st.Blocks != n {
		t.Fatalf("stat after reopen: %d blocks, %v; want %d", st.Blocks, err, n)
	}
	before, _ := freeBytes(disk)
	if res, err := s.GC(ctx); err != nil || res.Removed != n {
		t.Fatalf("gc: %+v, %v", res, err)
	}
	// The deletes themselves are index entries: GC compacts them away
	// with what they delete, so the room comes back.
	after, _ := freeBytes(disk)
	if after-before < 16<<20 {
		t.Errorf("gc freed %d KiB (%d MiB free before, %d after)", (after-before)>>10, before>>20, after>>20)
	}
	if err := s.PutMany(ctx, smallBlocks(t, 10_000)); err != nil {
		t.Errorf("a write after gc: %v", err)
	}
}

// BenchmarkAdmit is the cost of the check a batch of writes pays: a
// statfs, and now and then a look at Badger's files.
func BenchmarkAdmit(b *testing.B) {
	dir := b.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for b.Loop() {
		done, err := s.space.admit(1<<20, 128, true)
		if err != nil {
			b.Fatal(err)
		}
		done()
	}
}

// BenchmarkScan is the look at Badger's files alone.
func BenchmarkScan(b *testing.B) {
	dir := b.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for b.Loop() {
		if _, _, err := badgerHeadroom(s.space.index); err != nil {
			b.Fatal(err)
		}
	}
}
