package blockstore

import (
	"path/filepath"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Badger maps its tables and writes each new one through the mapping, so
// every table written since the process started stays in its resident
// set: at a million files a quarter of a GiB of index, counted in the RSS
// that top and /usr/bin/time show although it is page cache. The store
// drops its mapping of the tables' pages whenever the process's mapped
// pages grew by trimAfter (the page cache keeps them; a later read maps a
// page again at the cost of a minor fault), so the resident set holds
// only the tables' pages touched since.
const (
	trimLook  = 50 * time.Millisecond // how often the mapped pages are counted
	trimAfter = 8 << 20               // growth that makes a trim
)

// trimmer trims the tables' pages in dir until stop.
type trimmer struct {
	done chan struct{}
	wg   sync.WaitGroup
}

func startTrimmer(db *badger.DB, dir string) *trimmer {
	if !canTrim {
		return nil
	}
	// The kernel names mapped files by their real path.
	dir, err := filepath.Abs(dir)
	if err == nil {
		dir, err = filepath.EvalSymlinks(dir)
	}
	if err != nil {
		return nil
	}
	t := &trimmer{done: make(chan struct{})}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		tick := time.NewTicker(trimLook)
		defer tick.Stop()
		low := mappedBytes()
		for {
			select {
			case <-t.done:
				return
			case <-tick.C:
			}
			m := mappedBytes()
			low = min(low, m)
			if m < low+trimAfter {
				continue
			}
			trimTables(db, dir)
			low = mappedBytes()
		}
	}()
	return t
}

// stop ends the trimmer and waits for it; before Badger closes.
func (t *trimmer) stop() {
	if t == nil {
		return
	}
	close(t.done)
	t.wg.Wait()
}

// trimTables drops the mapping of the pages of every table that stays in
// the tree while it works. An iterator holds a reference to each table in
// the tree when it is made, and Badger unmaps a table only when its last
// reference goes; a table listed both before and after the iterator was
// made was in the tree when it was, so its mapping cannot go away (and
// its addresses be reused by another mapping) until the iterator closes.
// This holds as long as table IDs are never reused (DropAll and the
// StreamWriter start them again at 1; the store uses neither), Badger
// unmaps live tables only in its Close (the trimmer stops first), and no
// other Badger in the process opens the same folder (the repo's lock;
// a read-only store, which could share it, does not trim). It returns how
// many tables' mappings it dropped.
func trimTables(db *badger.DB, dir string) int {
	before := tableIDs(db)
	txn := db.NewTransaction(false)
	defer txn.Discard()
	it := txn.NewIterator(badger.IteratorOptions{})
	defer it.Close()
	held := map[uint64]bool{}
	for id := range tableIDs(db) {
		if before[id] {
			held[id] = true
		}
	}
	return dropMapped(dir, held)
}

func tableIDs(db *badger.DB) map[uint64]bool {
	ids := map[uint64]bool{}
	for _, t := range db.Tables() {
		ids[t.ID] = true
	}
	return ids
}
