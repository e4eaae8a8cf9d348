package chunker

import (
	"bytes"
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
	var want []byte
	chunk := make([]byte, 3<<20+17)
	for i := 0; len(want) < (streamKeep+3)*streamStretch; i++ {
		for k := range chunk {
			chunk[k] = byte(i*31 + k)
		}
		n, err := w.Write(chunk)
		if err != nil || n != len(chunk) {
			t.Fatalf("write %d: %d, %v", i, n, err)
		}
		want = append(want, chunk...)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read back %d bytes (%v), wrote %d; equal: %v", len(got), err, len(want), bytes.Equal(got, want))
	}
}
