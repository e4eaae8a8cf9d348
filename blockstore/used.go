package blockstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	dag "github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	mh "github.com/multiformats/go-multihash"
)

// What a storage quota needs of the store: when each root was last used,
// so the one used longest ago goes first, and what a root's DAG holds
// here, so the quota knows what removing it would free. Use times are
// written without a sync: one lost in a crash only makes a root look
// older than it is.

func usedKey(root cid.Cid) []byte { return append([]byte(prefixUsed), root.Bytes()...) }

// Touch records t as root's last use.
func (s *Store) Touch(root cid.Cid, t time.Time) error {
	k := usedKey(root)
	v := binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano()))
	done, err := s.begin(0, indexBytes(1, len(k)+len(v)), true)
	if err != nil {
		return fmt.Errorf("touch %s: %w", root, err)
	}
	err = s.db.Update(func(txn *badger.Txn) error { return txn.Set(k, v) })
	done()
	if err != nil {
		return fmt.Errorf("touch %s: %w", root, s.space.noSpace(err))
	}
	return nil
}

// LastUsed returns when each root with a recorded use was last used.
func (s *Store) LastUsed() (map[cid.Cid]time.Time, error) {
	out := map[cid.Cid]time.Time{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixUsed), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			c, err := cid.Cast(it.Item().Key()[len(prefixUsed):])
			if err != nil {
				continue // not ours to judge: a root that reads back is all that matters
			}
			err = it.Item().Value(func(v []byte) error {
				if len(v) != 8 {
					return nil
				}
				out[c] = time.Unix(0, int64(binary.BigEndian.Uint64(v)))
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("last used: %w", err)
	}
	return out, nil
}

// ForgetUsed deletes root's last use, once its records are gone.
func (s *Store) ForgetUsed(root cid.Cid) error {
	k := usedKey(root)
	done, err := s.begin(0, indexBytes(1, len(k)), false)
	if err != nil {
		return fmt.Errorf("forget %s: %w", root, err)
	}
	err = s.db.Update(func(txn *badger.Txn) error { return txn.Delete(k) })
	done()
	if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
		return fmt.Errorf("forget %s: %w", root, s.space.noSpace(err))
	}
	return nil
}

// HeldRoots returns the roots running gets hold (see Hold): what a quota
// must not take from under them.
func (s *Store) HeldRoots() []cid.Cid {
	roots, _ := s.held()
	return roots
}

// WalkStored calls fn once for each block of root's DAG that is here, as
// far as the stored nodes reach, with its size and whether the store
// holds its bytes itself (false: they are in a file a get wrote, which
// the user owns and removing the root does not free).
func (s *Store) WalkStored(ctx context.Context, root cid.Cid, fn func(h mh.Multihash, size int64, held bool)) error {
	seen := map[string]struct{}{}
	stack := []cid.Cid{root}
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if _, ok := seen[string(c.Hash())]; ok {
			continue
		}
		seen[string(c.Hash())] = struct{}{}
		err := s.lookup(c, func(txn *badger.Txn, item *badger.Item) error {
			size, err := s.valueSize(txn, item)
			if err != nil {
				return err
			}
			fn(c.Hash(), size, item.UserMeta() != metaFile)
			if c.Type() != cid.DagProtobuf {
				return nil
			}
			return s.value(txn, item, func(data []byte) error {
				nd, err := dag.DecodeProtobuf(data)
				if err != nil {
					return nil // not a node: nothing below it to count
				}
				for _, l := range nd.Links() {
					stack = append(stack, l.Cid)
				}
				return nil
			})
		})
		if err != nil && !ipld.IsNotFound(err) {
			return fmt.Errorf("walk %s: %w", root, err)
		}
	}
	return nil
}
