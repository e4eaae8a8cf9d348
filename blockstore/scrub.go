package blockstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// ScrubResult reports a scrub pass.
type ScrubResult struct {
	Checked int
	Bytes   int64
	Dropped []cid.Cid // blocks whose bytes a disk damaged, dropped
}

// scrubBatch is the keys a scrub reads in one short read transaction: a
// pass at a slow rate lasts hours, and one transaction that long would
// keep Badger from reclaiming anything meanwhile.
const scrubBatch = 256

// Scrub re-hashes every block the store holds itself, at most rate bytes
// a second (0: as fast as it can), and drops each one a disk damaged, so
// it is no longer served and a later get fetches it again. Serving does
// not re-hash (see ServeView); this is what finds the damage instead.
// File references are left to reads and Verify: their files are the
// user's to change.
func (s *Store) Scrub(ctx context.Context, rate int64) (ScrubResult, error) {
	var res ScrubResult
	start := time.Now()
	var after []byte
	for {
		keys, err := s.keysAfter(after, scrubBatch)
		if err != nil {
			return res, fmt.Errorf("scrub: %w", err)
		}
		if len(keys) == 0 {
			return res, nil
		}
		after = keys[len(keys)-1]
		for _, k := range keys {
			h := mh.Multihash(k[len(prefixBlock):])
			n, damaged, err := s.scrubOne(h)
			if errors.Is(err, ErrCorrupt) { // unreadable, not proven damaged: verify says which
				s.log.Warn("scrub: a stored block is unreadable", "cid", cid.NewCidV1(cid.Raw, h), "err", err)
				err = nil
			}
			if err != nil {
				return res, fmt.Errorf("scrub: %w", err)
			}
			res.Checked++
			res.Bytes += n
			if damaged != nil {
				c := cid.NewCidV1(cid.Raw, h)
				s.log.Warn("scrub: a stored block is damaged; dropped it", "cid", c)
				if err := s.dropDamaged(damaged); err != nil {
					return res, fmt.Errorf("scrub: drop %s: %w", c, err)
				}
				res.Dropped = append(res.Dropped, c)
			}
			if err := pace(ctx, start, res.Bytes, rate); err != nil {
				return res, err
			}
		}
	}
}

// keysAfter returns up to n block keys after the key after (from the
// first when nil).
func (s *Store) keysAfter(after []byte, n int) ([][]byte, error) {
	var out [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixBlock)})
		defer it.Close()
		if after == nil {
			it.Rewind()
		} else {
			it.Seek(after)
		}
		for ; it.Valid() && len(out) < n; it.Next() {
			k := it.Item().Key()
			if after != nil && bytes.Equal(k, after) {
				continue
			}
			out = append(out, bytes.Clone(k))
		}
		return nil
	})
	return out, err
}

// scrubOne re-hashes one block the store holds itself: its size, and
// what says its bytes are damaged, if they are. A block gone meanwhile,
// or a file reference, counts as nothing; a pack GC removed meanwhile
// (the block moved) is read again.
func (s *Store) scrubOne(h mh.Multihash) (int64, *damagedError, error) {
	for try := 0; ; try++ {
		n, damaged, err := s.scrubRead(h)
		if err == nil || try == 2 {
			return n, damaged, err
		}
	}
}

// scrubRead is one try of scrubOne: an error that is not damage (a pack
// that is gone, an I/O error) is returned as it is.
func (s *Store) scrubRead(h mh.Multihash) (int64, *damagedError, error) {
	var n int64
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(blockKey(h))
		if err != nil || item.UserMeta() == metaFile {
			return err
		}
		return s.value(txn, item, func(data []byte) error {
			n = int64(len(data))
			return nil
		})
	})
	var de *damagedError
	switch {
	case errors.As(err, &de):
		return n, de, nil
	case errors.Is(err, badger.ErrKeyNotFound):
		return 0, nil, nil
	default:
		return n, nil, err
	}
}

// pace sleeps until done bytes since start are within rate bytes a
// second.
func pace(ctx context.Context, start time.Time, done, rate int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if rate <= 0 {
		return nil
	}
	wait := time.Duration(float64(done)/float64(rate)*float64(time.Second)) - time.Since(start)
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
