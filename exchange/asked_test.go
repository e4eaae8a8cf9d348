package exchange

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"
	"time"
)

func askedHash(i int) []byte {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i))
	h := sha256.Sum256(b[:])
	return h[:]
}

// Every block asked for is found while its generation lasts, however many
// were asked; blocks never asked for pass for asked rarely; a generation
// askedFor old goes whole.
func TestAskedSet(t *testing.T) {
	var s askedSet
	now := time.Now()
	const n = 300_000
	for i := range n {
		s.add(askedHash(i), now)
	}
	for i := range n {
		if !s.has(askedHash(i), now) {
			t.Fatalf("block %d asked for is not in the set", i)
		}
	}
	wrong := 0
	for i := n; i < 2*n; i++ {
		if s.has(askedHash(i), now) {
			wrong++
		}
	}
	if rate := float64(wrong) / n; rate > 0.01 {
		t.Errorf("%.2f%% of blocks never asked for count as asked, want under 1%%", 100*rate)
	}
	bytes := 0
	for _, b := range s.cur {
		bytes += 8 * len(b.bits)
	}
	if bytes > 4*n {
		t.Errorf("the set takes %d bytes for %d blocks, want at most 4 per block", bytes, n)
	}

	later := now.Add(askedFor + time.Second)
	s.add(askedHash(-1), later) // a new generation begins; the old one stays
	if !s.has(askedHash(7), later) || !s.has(askedHash(-1), later) {
		t.Fatal("a block of the generation before is forgotten too early")
	}
	muchLater := later.Add(askedFor + time.Second)
	if s.has(askedHash(7), muchLater) {
		t.Error("a block asked for two generations ago is still in the set")
	}
	if !s.has(askedHash(-1), muchLater) {
		t.Error("a block of the generation before is forgotten too early")
	}
}
