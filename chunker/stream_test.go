package chunker

import (
	"bytes"
	"encoding/binary"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
)

// A file written through streamFile, in writes of odd sizes across many
// stretches, reads back byte for byte.
func TestStreamFileKeepsEveryByte(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := &streamFile{f: f}
	// Past two background flushes; each 4 KiB page is stamped with its
	// number, so a page written twice or in the wrong place shows.
	want := make([]byte, max((streamKeep+3)*streamStretch, 2*streamFlushEvery+1))
	base := make([]byte, 64<<10)
	rand.New(rand.NewSource(1)).Read(base)
	for off := 0; off < len(want); off += len(base) {
		copy(want[off:], base)
	}
	for off := 0; off+8 <= len(want); off += 4096 {
		binary.LittleEndian.PutUint64(want[off:], uint64(off))
	}
	for off, i := 0, 0; off < len(want); i++ {
		n := min(3<<20+17, len(want)-off)
		if got, err := w.Write(want[off : off+n]); err != nil || got != n {
			t.Fatalf("write %d: %d, %v", i, got, err)
		}
		off += n
	}
	w.wait()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read back %d bytes (%v), wrote %d; equal: %v", len(got), err, len(want), bytes.Equal(got, want))
	}
}
