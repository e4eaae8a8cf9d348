package exchange

import (
	"hash/maphash"
	"time"
)

// askedSet holds the multihashes asked for within the last askedFor, in
// two generations: the current one, and the one before, dropped whole
// when the current one is askedFor old. A get of a million small files
// asks for a million blocks within minutes, so a generation is not a map
// of their hashes but a chain of Bloom filters, each twice the size of
// the one before: 2 to 4 bytes a block. A false positive (0.05% per full
// filter, under 1% for a chain of a million blocks) lets one block nobody
// asked for pass unjudged; a peer is judged on every block it sends, so
// a lying one is still cut off.
type askedSet struct {
	seed      maphash.Seed // random per set: nobody can aim at a filter's bits
	cur, prev []*bloom
	since     time.Time // when cur began
}

const (
	bloomBits   = 16   // bits per entry a filter is sized for
	bloomProbes = 11   // bits set per entry: ln 2 × bloomBits, rounded
	bloomFirst  = 4096 // entries the first filter of a generation takes
)

func (s *askedSet) rotate(now time.Time) {
	if s.since.IsZero() {
		s.seed = maphash.MakeSeed()
	}
	if s.since.IsZero() || now.Sub(s.since) > askedFor {
		s.prev, s.cur, s.since = s.cur, nil, now
	}
}

func (s *askedSet) add(h []byte, now time.Time) {
	s.rotate(now)
	if len(s.cur) == 0 || s.cur[len(s.cur)-1].full() {
		n := bloomFirst
		if len(s.cur) > 0 {
			n = 2 * s.cur[len(s.cur)-1].capacity
		}
		s.cur = append(s.cur, newBloom(n))
	}
	last := s.cur[len(s.cur)-1]
	if x := maphash.Bytes(s.seed, h); !last.has(x) { // asked again: no room taken
		last.add(x)
	}
}

// has reports whether h was asked for in the last askedFor (or up to
// twice that: a generation is dropped whole).
func (s *askedSet) has(h []byte, now time.Time) bool {
	s.rotate(now)
	x := maphash.Bytes(s.seed, h)
	for _, gen := range [2][]*bloom{s.cur, s.prev} {
		for _, b := range gen {
			if b.has(x) {
				return true
			}
		}
	}
	return false
}

// bloom is a Bloom filter over 64-bit hashes, sized for capacity entries.
type bloom struct {
	bits        []uint64
	n, capacity int
}

func newBloom(capacity int) *bloom {
	return &bloom{bits: make([]uint64, (capacity*bloomBits+63)/64), capacity: capacity}
}

func (b *bloom) full() bool { return b.n >= b.capacity }

// probe calls f with each bit of x, by double hashing: the two halves of
// one 64-bit hash make the bloomProbes positions.
func (b *bloom) probe(x uint64, f func(word int, bit uint64) bool) bool {
	m := uint64(len(b.bits)) * 64
	h1, h2 := x&0xffffffff, x>>32|1
	for i := range uint64(bloomProbes) {
		k := (h1 + i*h2) % m
		if !f(int(k/64), 1<<(k%64)) {
			return false
		}
	}
	return true
}

func (b *bloom) add(x uint64) {
	b.probe(x, func(w int, bit uint64) bool { b.bits[w] |= bit; return true })
	b.n++
}

func (b *bloom) has(x uint64) bool {
	return b.probe(x, func(w int, bit uint64) bool { return b.bits[w]&bit != 0 })
}
