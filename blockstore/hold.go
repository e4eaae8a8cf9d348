package blockstore

import (
	"sync"

	"github.com/ipfs/go-cid"
)

// Holds keep GC from taking what running work needs. A download holds
// its root from its start: GC marks from held roots as from records, and
// keeps every block written since the oldest hold began (Badger's commit
// timestamps say when), so neither the blocks a download found here nor
// those it is writing (children before the parent that will reach them,
// file references) are swept. Blocks written while a GC runs are kept by
// that GC the same way, and a hold that begins while GC deletes waits
// for it, so what a get finds here stays.
type holds struct {
	mu    sync.Mutex
	next  int
	roots map[int]held
}

type held struct {
	root  cid.Cid
	since uint64 // Badger's read timestamp when the hold began
}

// Hold keeps root's DAG, as far as it is stored, and every block written
// from now on, from GC until release is called.
func (s *Store) Hold(root cid.Cid) (release func()) {
	s.holds.mu.Lock()
	defer s.holds.mu.Unlock()
	if s.holds.roots == nil {
		s.holds.roots = map[int]held{}
	}
	id := s.holds.next
	s.holds.next++
	s.holds.roots[id] = held{root: root, since: s.readTs()}
	var once sync.Once
	return func() {
		once.Do(func() {
			s.holds.mu.Lock()
			delete(s.holds.roots, id)
			s.holds.mu.Unlock()
		})
	}
}

// held returns the held roots, and the timestamp after which every write
// is kept: the oldest hold's start, or now.
func (s *Store) held() ([]cid.Cid, uint64) {
	s.holds.mu.Lock()
	defer s.holds.mu.Unlock()
	since := s.readTs()
	var roots []cid.Cid
	for _, h := range s.holds.roots {
		roots = append(roots, h.root)
		since = min(since, h.since)
	}
	return roots, since
}

// readTs is the timestamp of the last write Badger committed: a key whose
// version is above it was written later.
func (s *Store) readTs() uint64 {
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	return txn.ReadTs()
}
