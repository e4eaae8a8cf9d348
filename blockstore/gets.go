package blockstore

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

// Get records: the gets a daemon runs or holds paused, kept so that one
// it was running when it stopped, or was killed, starts again when it
// starts, and one the user paused is still there, paused. A get that
// ends (done, failed, canceled) has its record deleted.

// GetRecord is a get as the user asked for it: enough to run it again.
type GetRecord struct {
	ID uint64 `json:"id"`
	// Ref is the ticket or CID as the user gave it (a path inside after
	// a slash), not its parsed parts: a ticket may carry fields this
	// version does not know.
	Ref string `json:"ref"`
	// Root is what Ref names; GC keeps what arrived of it.
	Root       cid.Cid  `json:"root"`
	Name       string   `json:"name"`
	Dir        string   `json:"dir"` // absolute
	Force      bool     `json:"force,omitempty"`
	MaxEntries int      `json:"max_entries,omitempty"`
	Only       []string `json:"only,omitempty"`
	Paths      []string `json:"paths,omitempty"` // exact paths inside the share (GetOptions.Paths)
	From       []string `json:"from,omitempty"`  // peer multiaddrs to dial first
	State      string   `json:"state"`           // "running" or "paused"
	// Done and Total are where it stood when it was paused, to show
	// before it runs again.
	Done  int64     `json:"done,omitempty"`
	Total int64     `json:"total,omitempty"`
	Added time.Time `json:"added"`
}

func getKey(id uint64) []byte { return binary.BigEndian.AppendUint64([]byte(prefixGet), id) }

// PutGet adds or replaces a get record and syncs: a pause must survive
// a crash right after it is answered.
func (s *Store) PutGet(r GetRecord) error {
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("record get %d: %w", r.ID, err)
	}
	k := getKey(r.ID)
	done, err := s.begin(0, indexBytes(1, len(k)+len(v)), true)
	if err != nil {
		return fmt.Errorf("record get %d: %w", r.ID, err)
	}
	err = s.db.Update(func(txn *badger.Txn) error { return txn.Set(k, v) })
	done()
	if err != nil {
		return fmt.Errorf("record get %d: %w", r.ID, s.space.noSpace(err))
	}
	return s.Sync()
}

// DeleteGet removes a get record, if there is one.
func (s *Store) DeleteGet(id uint64) error {
	done, err := s.begin(0, indexBytes(1, len(getKey(id))), false)
	if err != nil {
		return fmt.Errorf("forget get %d: %w", id, err)
	}
	err = s.db.Update(func(txn *badger.Txn) error { return txn.Delete(getKey(id)) })
	done()
	if err != nil {
		return fmt.Errorf("forget get %d: %w", id, s.space.noSpace(err))
	}
	return s.Sync()
}

// Gets lists the get records in ID order.
func (s *Store) Gets() ([]GetRecord, error) {
	var out []GetRecord
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixGet), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var r GetRecord
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &r) }); err != nil {
				return fmt.Errorf("get record %x: %w", it.Item().Key(), err)
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list gets: %w", err)
	}
	return out, nil
}
