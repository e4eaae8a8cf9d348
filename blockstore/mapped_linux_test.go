package blockstore

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
)

// realIndex is the store's index folder as the kernel names its mapped
// files.
func realIndex(t *testing.T, dir string) string {
	idx, err := filepath.EvalSymlinks(filepath.Join(dir, "index"))
	if err != nil {
		t.Fatal(err)
	}
	return idx
}

// tablesResident is how many bytes of the tables in dir this process has
// resident, from /proc/self/smaps.
func tablesResident(t *testing.T, dir string) int64 {
	t.Helper()
	dir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var total int64
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.Contains(k, " ") {
			if in && k == "Rss" {
				n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				total += n << 10
			}
			continue
		}
		slash := strings.IndexByte(line, '/')
		in = slash >= 0 && filepath.Dir(line[slash:]) == dir && filepath.Ext(line[slash:]) == ".sst"
	}
	return total
}

// smallBlocks makes n blocks small enough to live in the index itself.
func smallBlocks(t *testing.T, n int) []blocks.Block {
	bs := make([]blocks.Block, n)
	for i := range bs {
		bs[i] = randomBlock(t, 40)
	}
	return bs
}

// The tables a store wrote stay readable once it drops its mapping of
// their pages, and no longer count in the process's resident set.
func TestTrimDropsTablePages(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, dir)
	s.trim.stop() // trimmed by hand below
	s.trim = nil
	bs := smallBlocks(t, 200_000)
	for i := 0; i < len(bs); i += 10_000 {
		if err := s.PutMany(ctx, bs[i:i+10_000]); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.db.Flatten(2); err != nil { // more tables, written through the mapping
		t.Fatal(err)
	}
	idx := realIndex(t, dir)
	for deadline := time.Now().Add(30 * time.Second); tablesResident(t, idx) < 8<<20; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d bytes of tables resident after writing 200,000 blocks", tablesResident(t, idx))
		}
		s.Sync()
		time.Sleep(100 * time.Millisecond)
	}
	before := tablesResident(t, idx)
	if n := trimTables(s.db, idx); n == 0 {
		t.Fatal("trimmed no table")
	}
	after := tablesResident(t, idx)
	t.Logf("tables resident: %d KiB before the trim, %d KiB after", before>>10, after>>10)
	if after > before/8 {
		t.Errorf("%d KiB of tables still resident after the trim (%d before)", after>>10, before>>10)
	}
	for _, b := range bs {
		got, err := s.Get(ctx, b.Cid())
		if err != nil {
			t.Fatalf("get %s after the trim: %v", b.Cid(), err)
		}
		if string(got.RawData()) != string(b.RawData()) {
			t.Fatalf("block %s changed after the trim", b.Cid())
		}
	}
}

// Trims while blocks are written, compacted and read lose nothing.
func TestTrimDuringWrites(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openStore(t, dir)
	idx := realIndex(t, dir)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var trimmed atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
				trimmed.Add(int64(trimTables(s.db, idx)))
			}
		}
	}()
	stopTrims := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(stopTrims) // before the store closes, should a check fail
	var written []blocks.Block
	for range 25 { // past a memtable: flushes and compactions
		bs := smallBlocks(t, 10_000)
		if err := s.PutMany(ctx, bs); err != nil {
			t.Fatal(err)
		}
		written = append(written, bs...)
		for _, b := range bs {
			if got, err := s.Get(ctx, b.Cid()); err != nil || string(got.RawData()) != string(b.RawData()) {
				t.Fatalf("get %s while trimming: %v", b.Cid(), err)
			}
		}
	}
	stopTrims()
	if trimmed.Load() == 0 {
		t.Fatal("no table was trimmed while blocks were written")
	}
	for _, b := range written {
		if got, err := s.Get(ctx, b.Cid()); err != nil || string(got.RawData()) != string(b.RawData()) {
			t.Fatalf("get %s after trimming: %v", b.Cid(), err)
		}
	}
}
