package blockstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
	dag "github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	mh "github.com/multiformats/go-multihash"
)

// GC deletes every block that no share or pin record reaches, then
// rewrites the value log so the disk space comes back. Blocks of a
// record whose DAG is incomplete are kept as far as they are reachable.
func (s *Store) GC(ctx context.Context) (GCResult, error) {
	var res GCResult
	recs, err := s.Records()
	if err != nil {
		return res, fmt.Errorf("gc: %w", err)
	}
	live := make(map[string]struct{})
	for _, r := range recs {
		if err := s.mark(ctx, r.Root, live); err != nil {
			return res, fmt.Errorf("gc: %w", err)
		}
	}
	var dead []mh.Multihash
	err = s.eachBlockKey(func(h mh.Multihash) error {
		if _, ok := live[string(h)]; ok {
			res.Kept++
		} else {
			dead = append(dead, h)
		}
		return ctx.Err()
	})
	if err != nil {
		return res, fmt.Errorf("gc: %w", err)
	}
	for _, h := range dead {
		size, err := s.GetSize(ctx, cid.NewCidV1(cid.Raw, h))
		if err != nil {
			return res, fmt.Errorf("gc: %w", err)
		}
		if err := s.deleteBlock(h); err != nil {
			return res, fmt.Errorf("gc: %w", err)
		}
		res.Removed++
		res.FreedBytes += int64(size)
	}
	if err := s.Sync(); err != nil {
		return res, fmt.Errorf("gc: %w", err)
	}
	if err := s.sweepFiles(ctx); err != nil {
		return res, fmt.Errorf("gc: %w", err)
	}
	if err := s.reclaim(); err != nil {
		return res, fmt.Errorf("gc: %w", err)
	}
	return res, nil
}

// mark adds the multihashes of every stored block reachable from root.
func (s *Store) mark(ctx context.Context, root cid.Cid, live map[string]struct{}) error {
	stack := []cid.Cid{root}
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if _, ok := live[string(c.Hash())]; ok {
			continue
		}
		err := s.View(ctx, c, func(data []byte) error {
			live[string(c.Hash())] = struct{}{}
			if c.Type() != cid.DagProtobuf {
				return nil
			}
			n, err := dag.DecodeProtobuf(data)
			if err != nil {
				return nil // corrupt node: keep it, verify reports it
			}
			for _, l := range n.Links() {
				stack = append(stack, l.Cid)
			}
			return nil
		})
		if err != nil && !ipld.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// reclaim runs value-log GC until Badger finds nothing more to rewrite.
func (s *Store) reclaim() error {
	// Badger learns which value-log bytes are dead only when compaction
	// drops the deleted keys, and compaction only sees flushed tables.
	// DropPrefix is its one public way to flush the memtable, and it does
	// so only when the prefix holds a key: write one, then drop it.
	// Flatten then compacts the deletes down.
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(prefixFlush), nil) }); err != nil {
		return err
	}
	if err := s.db.DropPrefix([]byte(prefixFlush)); err != nil {
		return err
	}
	if err := s.db.Flatten(2); err != nil {
		return err
	}
	for {
		err := s.db.RunValueLogGC(0.1)
		if errors.Is(err, badger.ErrNoRewrite) || errors.Is(err, badger.ErrGCInMemoryMode) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Verify re-hashes every block and reports those whose bytes no longer
// match their key. With drop set, corrupt blocks are deleted so they can be
// fetched again.
func (s *Store) Verify(ctx context.Context, drop bool) (VerifyResult, error) {
	var res VerifyResult
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixBlock)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			h := mh.Multihash(it.Item().KeyCopy(nil)[len(prefixBlock):])
			dec, err := mh.Decode(h)
			if err != nil {
				res.Corrupt = append(res.Corrupt, cid.NewCidV1(cid.Raw, h))
				continue
			}
			ok := false
			err = s.value(txn, it.Item(), func(v []byte) error {
				got, err := mh.Sum(v, dec.Code, dec.Length)
				ok = err == nil && string(got) == string(h)
				return nil
			})
			if err != nil && !errors.Is(err, errCorrupt) {
				return err
			}
			res.Checked++
			if !ok {
				res.Corrupt = append(res.Corrupt, cid.NewCidV1(cid.Raw, h))
			}
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("verify: %w", err)
	}
	if drop {
		for _, c := range res.Corrupt {
			if err := s.deleteBlock(c.Hash()); err != nil {
				return res, fmt.Errorf("verify: drop %s: %w", c, err)
			}
			res.Dropped++
		}
		if err := s.Sync(); err != nil {
			return res, err
		}
	}
	return res, nil
}

// sweepFiles removes block files that have no index entry: what a crash
// between writing a file and committing its entry leaves behind.
func (s *Store) sweepFiles(ctx context.Context) error {
	if s.files == nil {
		return nil
	}
	return filepath.WalkDir(s.files.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := hex.DecodeString(d.Name())
		if err != nil {
			return nil // not ours
		}
		ok, err := s.Has(ctx, cid.NewCidV1(cid.Raw, h))
		if err != nil || ok {
			return err
		}
		return os.Remove(p)
	})
}
