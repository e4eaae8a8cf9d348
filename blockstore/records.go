package blockstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
)

// Share and pin records: the roots the store keeps, and what the user
// knows them by.

// Kind tells why a root is kept.
type Kind string

const (
	KindShare Kind = "share" // the user shares it
	KindPin   Kind = "pin"   // the user pinned it (or fetched it before quotas): kept and reseeded
	// KindReseed is a root the user fetched and did not pin: reseeded
	// while there is room, the first to go under a storage quota. It
	// shares the pin records' prefix: a root is pinned or reseed, never
	// both, and pinning one replaces its record.
	KindReseed Kind = "reseed"
)

// Record is a root the store keeps, with what the user knows it by.
type Record struct {
	Root  cid.Cid   `json:"root"`
	Kind  Kind      `json:"kind"`
	Name  string    `json:"name"`
	Size  uint64    `json:"size"` // content bytes (UnixFS file size)
	Added time.Time `json:"added"`
	// Secret is a private share's secret: its blocks are served only to
	// peers that prove they hold it. Nil for a public root.
	Secret []byte `json:"secret,omitempty"`
	// Allow lists the peer IDs a private share is limited to; empty for
	// any peer that proves the secret.
	Allow []string `json:"allow,omitempty"`
	Seed  *Seed    `json:"seed,omitempty"`
	// Live names the live folder this root is a version of (its name, a
	// peer ID): the folder's own record, dropped when the version is no
	// longer kept. Empty for a root the user shared, pinned or fetched.
	Live string `json:"live,omitempty"`
}

// Seed is how the root is seeded: rules of its own, and what it
// uploaded; nil for the node's rules and nothing uploaded yet.
type Seed struct {
	Ratio   *float64 `json:"ratio,omitempty"`   // stop after uploading Ratio × Size; nil: the node's rule
	Seconds *int64   `json:"seconds,omitempty"` // stop this long after Added; nil: the node's rule
	Paused  bool     `json:"paused,omitempty"`
	Stopped string   `json:"stopped,omitempty"` // why a rule stopped it
	// Uploaded counts block bytes sent to peers; Peers the distinct peers
	// sent any (counted per run of the node); First the first upload.
	Uploaded int64     `json:"uploaded,omitempty"`
	Bytes    uint64    `json:"bytes,omitempty"` // one copy: its distinct blocks' bytes
	Peers    int       `json:"peers,omitempty"`
	First    time.Time `json:"first,omitzero"`
}

// Private reports whether r is a private share's.
func (r Record) Private() bool { return r.Secret != nil }

func recordKey(k Kind, c cid.Cid) []byte {
	p := prefixShare
	if k == KindPin || k == KindReseed {
		p = prefixPin
	}
	return append([]byte(p), c.Bytes()...)
}

// PutRecord adds or replaces a share or pin record and syncs: it is a
// commit point.
func (s *Store) PutRecord(r Record) error {
	if r.Kind != KindShare && r.Kind != KindPin && r.Kind != KindReseed {
		return fmt.Errorf("put record %s: unknown kind %q", r.Root, r.Kind)
	}
	v, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("put record %s: %w", r.Root, err)
	}
	k := recordKey(r.Kind, r.Root)
	done, err := s.begin(0, indexBytes(1, len(k)+len(v)), true)
	if err != nil {
		return fmt.Errorf("put record %s: %w", r.Root, err)
	}
	err = s.db.Update(func(txn *badger.Txn) error { return txn.Set(k, v) })
	done()
	if err != nil {
		return fmt.Errorf("put record %s: %w", r.Root, s.space.noSpace(err))
	}
	return s.Sync()
}

// DeleteRecords removes the share and pin records of root and reports
// whether there were any.
func (s *Store) DeleteRecords(root cid.Cid) (bool, error) {
	found := false
	done, err := s.begin(0, indexBytes(2, 2*len(recordKey(KindPin, root))), false)
	if err != nil {
		return false, fmt.Errorf("remove %s: %w", root, err)
	}
	err = s.db.Update(func(txn *badger.Txn) error {
		for _, k := range []Kind{KindShare, KindPin} {
			key := recordKey(k, root)
			if _, err := txn.Get(key); errors.Is(err, badger.ErrKeyNotFound) {
				continue
			} else if err != nil {
				return err
			}
			found = true
			if err := txn.Delete(key); err != nil {
				return err
			}
		}
		return nil
	})
	done()
	if err != nil {
		return false, fmt.Errorf("remove %s: %w", root, s.space.noSpace(err))
	}
	return found, s.Sync()
}

// DeleteRecord removes root's record of kind k, if there is one.
func (s *Store) DeleteRecord(k Kind, root cid.Cid) error {
	key := recordKey(k, root)
	done, err := s.begin(0, indexBytes(1, len(key)), false)
	if err != nil {
		return fmt.Errorf("remove %s: %w", root, err)
	}
	err = s.db.Update(func(txn *badger.Txn) error { return txn.Delete(key) })
	done()
	if err != nil {
		return fmt.Errorf("remove %s: %w", root, s.space.noSpace(err))
	}
	return s.Sync()
}

// RecordsOf returns the share and pin records of root, if any.
func (s *Store) RecordsOf(root cid.Cid) ([]Record, error) {
	var out []Record
	err := s.db.View(func(txn *badger.Txn) error {
		for _, k := range []Kind{KindShare, KindPin} {
			item, err := txn.Get(recordKey(k, root))
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue
			} else if err != nil {
				return err
			}
			var r Record
			if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &r) }); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("records of %s: %w", root, err)
	}
	return out, nil
}

// Records lists shares then pins, each in key order.
func (s *Store) Records() ([]Record, error) {
	var out []Record
	err := s.db.View(func(txn *badger.Txn) error {
		for _, p := range []string{prefixShare, prefixPin} {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(p), PrefetchValues: true})
			for it.Rewind(); it.Valid(); it.Next() {
				var r Record
				if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &r) }); err != nil {
					it.Close()
					return fmt.Errorf("record %x: %w", it.Item().Key(), err)
				}
				out = append(out, r)
			}
			it.Close()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list records: %w", err)
	}
	return out, nil
}

// badgerLogger forwards Badger's log lines to slog.
