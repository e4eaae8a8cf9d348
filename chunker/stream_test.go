package chunker

import (
	"bytes"
	"encoding/binary"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
)

// A file written at offsets in a shuffled order, in writes of odd sizes
// across many stretches and past two background flushes, reads back byte
// for byte, and the frontier reaches its end.
func TestStreamKeepsEveryByte(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	s := &stream{f: f}
	// Each 4 KiB page is stamped with its number, so a page written twice
	// or in the wrong place shows.
	want := make([]byte, max((streamKeep+3)*streamStretch, 2*streamFlushEvery+1))
	base := make([]byte, 64<<10)
	rng := rand.New(rand.NewSource(1))
	rng.Read(base)
	for off := 0; off < len(want); off += len(base) {
		copy(want[off:], base)
	}
	for off := 0; off+8 <= len(want); off += 4096 {
		binary.LittleEndian.PutUint64(want[off:], uint64(off))
	}
	type piece struct{ off, end int }
	var pieces []piece
	for off := 0; off < len(want); {
		n := min(1<<20+17, len(want)-off)
		pieces = append(pieces, piece{off, off + n})
		off += n
	}
	// Shuffled a few places at a time, as blocks in flight arrive.
	for i := range pieces {
		j := min(len(pieces)-1, i+rng.Intn(4))
		pieces[i], pieces[j] = pieces[j], pieces[i]
	}
	for _, p := range pieces {
		if _, err := f.WriteAt(want[p.off:p.end], int64(p.off)); err != nil {
			t.Fatal(err)
		}
		s.wrote(int64(p.off), int64(p.end))
	}
	s.wait()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if s.frontier != int64(len(want)) || len(s.ahead) != 0 {
		t.Errorf("frontier %d of %d, %d writes ahead", s.frontier, len(want), len(s.ahead))
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read back %d bytes (%v), wrote %d; equal: %v", len(got), err, len(want), bytes.Equal(got, want))
	}
}
