package blockstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
	dag "github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	mh "github.com/multiformats/go-multihash"
)

// GC deletes every block that no share, pin, get record or hold
// reaches, then gives the disk space back: packs that are mostly dead
// are rewritten, and Badger compacts the small blocks away. Blocks of a
// record whose DAG is incomplete are kept as far as they are reachable;
// blocks written since the oldest hold began, or while GC runs, are kept
// (see Hold). One GC runs at a time.
func (s *Store) GC(ctx context.Context) (GCResult, error) {
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	var res GCResult
	if err := s.space.writable(); err != nil {
		return res, fmt.Errorf("gc: %w", err)
	}
	roots, since := s.held()
	recs, err := s.Records()
	if err != nil {
		return res, fmt.Errorf("gc: %w", err)
	}
	for _, r := range recs {
		roots = append(roots, r.Root)
	}
	// A paused get holds no Hold, and what arrived of it is kept for
	// when it resumes.
	gets, err := s.Gets()
	if err != nil {
		return res, fmt.Errorf("gc: %w", err)
	}
	for _, g := range gets {
		roots = append(roots, g.Root)
	}
	live := make(map[string]struct{})
	for _, r := range roots {
		if err := s.mark(ctx, r, live); err != nil {
			return res, fmt.Errorf("gc: %w", err)
		}
	}
	var dead []mh.Multihash
	err = s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixBlock)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			h := keyHash(item)
			if _, ok := live[string(h)]; ok || item.Version() > since {
				res.Kept++
				continue
			}
			dead = append(dead, mh.Multihash(bytes.Clone(h)))
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("gc: %w", err)
	}
	if err := s.sweep(ctx, dead, live, &res); err != nil {
		return res, fmt.Errorf("gc: %w", err)
	}
	if err := s.Sync(); err != nil {
		return res, fmt.Errorf("gc: %w", err)
	}
	if err := s.compactPacks(ctx); err != nil {
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
		// Leaves are only looked up, not read. A node that cannot be read
		// stops GC before it deletes anything: what it links to cannot be
		// told from garbage.
		err := s.lookup(c, func(txn *badger.Txn, item *badger.Item) error {
			live[string(c.Hash())] = struct{}{}
			if c.Type() != cid.DagProtobuf {
				return nil
			}
			err := s.value(txn, item, func(data []byte) error {
				n, err := dag.DecodeProtobuf(data)
				if err != nil {
					return nil
				}
				for _, l := range n.Links() {
					stack = append(stack, l.Cid)
				}
				return nil
			})
			if errors.As(err, new(*damagedError)) {
				return fmt.Errorf("%w: %s, a node of kept content: nothing removed ('pollen verify --drop' drops it, then get the content again)", ErrCorrupt, c)
			}
			return err
		})
		if err != nil && !ipld.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// reclaim runs value-log GC until Badger finds nothing more to rewrite.
func (s *Store) reclaim() error {
	if err := s.compactIndex(); err != nil {
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

// compactIndex flushes the memtable and compacts every table into one
// level, which drops deleted keys with what they delete.
func (s *Store) compactIndex() error {
	// Badger learns which value-log bytes are dead only when compaction
	// drops the deleted keys, and compaction only sees flushed tables.
	// DropPrefix is its one public way to flush the memtable, and it does
	// so only when the prefix holds a key: write one, then drop it.
	// Flatten then compacts the deletes down.
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(prefixFlush), nil) }); err != nil {
		return err
	}
	// DropPrefix refuses every write while it runs (ErrBlockedWrites):
	// writers wait for it instead (see writing).
	s.dropMu.Lock()
	err := s.db.DropPrefix([]byte(prefixFlush))
	s.dropMu.Unlock()
	if err != nil {
		return err
	}
	err = s.db.Flatten(2)
	s.space.rescan() // the tables shrank: admit on their new size
	return err
}

// Verify re-hashes every block and reports those whose bytes no longer
// match their key. With drop set, corrupt blocks are deleted so they can be
// fetched again.
func (s *Store) Verify(ctx context.Context, drop bool) (VerifyResult, error) {
	var res VerifyResult
	files := map[string]bool{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixBlock)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			h := mh.Multihash(it.Item().KeyCopy(nil)[len(prefixBlock):])
			if _, err := mh.Decode(h); err != nil {
				res.Corrupt = append(res.Corrupt, cid.NewCidV1(cid.Raw, h))
				continue
			}
			err := s.value(txn, it.Item(), func([]byte) error { return nil }) // value checks the bytes
			ok := err == nil
			if err != nil && !errors.Is(err, ErrCorrupt) {
				return err
			}
			res.Checked++
			if !ok {
				res.Corrupt = append(res.Corrupt, cid.NewCidV1(cid.Raw, h))
				if ce := (*changedError)(nil); errors.As(err, &ce) && !files[ce.r.path] {
					files[ce.r.path] = true
					res.Files = append(res.Files, ce.r.path)
				}
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

// compactPacks deletes packs no index entry points into and rewrites
// those that are more than half dead, so the disk space comes back. Bytes
// a crash left without an index entry count as dead too.
func (s *Store) compactPacks(ctx context.Context) error {
	p := s.packs
	if p == nil {
		return nil
	}
	p.gc.Lock()
	defer p.gc.Unlock()
	// Seal the current pack, so that every pack on disk may be rewritten.
	p.mu.Lock()
	var err error
	if p.curSize > 0 {
		err = p.rotate()
	}
	cur := p.curID
	p.mu.Unlock()
	if err != nil {
		return err
	}

	live := map[uint64]int64{}
	if err := s.eachPacked(func(_ []byte, l loc) error {
		live[l.pack] += l.size
		return ctx.Err()
	}); err != nil {
		return err
	}
	ids, err := p.ids()
	if err != nil {
		return err
	}
	move := map[uint64]bool{}
	var drop []uint64
	for _, id := range ids {
		if id >= cur { // being written, or begun since live was counted
			continue
		}
		fi, err := os.Stat(filepath.Join(p.dir, packName(id)))
		if err != nil {
			return err
		}
		switch {
		case live[id] == 0:
			drop = append(drop, id)
		case live[id]*2 < fi.Size():
			move[id] = true
			drop = append(drop, id)
		}
	}
	if len(move) > 0 {
		wb := s.db.NewWriteBatch()
		defer wb.Cancel()
		err := s.eachPacked(func(k []byte, l loc) error {
			if !move[l.pack] {
				return nil
			}
			data, err := p.readAt(l)
			if err != nil {
				return nil // damaged: leave it for verify to report
			}
			locs, err := p.append([][]byte{data})
			if err != nil {
				return err
			}
			return wb.SetEntry(badger.NewEntry(k, locs[0].encode()).WithMeta(metaPacked))
		})
		if err != nil {
			return err
		}
		if err := wb.Flush(); err != nil {
			return err
		}
	}
	// The moved blocks must be durable in their new place before the old
	// packs go.
	if err := s.Sync(); err != nil {
		return err
	}
	for _, id := range drop {
		if err := p.remove(id); err != nil {
			return err
		}
	}
	return nil
}

// eachPacked calls fn with the key and location of every packed block.
func (s *Store) eachPacked(fn func(key []byte, l loc) error) error {
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixBlock)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			if item.UserMeta() != metaPacked {
				continue
			}
			l, err := decodeLoc(item)
			if err != nil {
				continue
			}
			if err := fn(item.KeyCopy(nil), l); err != nil {
				return err
			}
		}
		return nil
	})
}

// sweep deletes the dead blocks. A get may have begun, or ended with its
// record, or found more blocks here, since GC read the roots: new holds
// and Has wait while the sweep runs, and what the holds and records
// reach now is kept.
func (s *Store) sweep(ctx context.Context, dead []mh.Multihash, live map[string]struct{}, res *GCResult) error {
	s.holds.mu.Lock()
	defer s.holds.mu.Unlock()
	// A get that found a block here by Has before this point stored the
	// parent it found it through first, so the marks below reach it;
	// one that asks from now on waits, and finds it gone.
	s.sweeping.Lock()
	defer s.sweeping.Unlock()
	var roots []cid.Cid
	for _, h := range s.holds.roots {
		roots = append(roots, h.root)
	}
	recs, err := s.Records()
	if err != nil {
		return err
	}
	for _, r := range recs {
		roots = append(roots, r.Root)
	}
	for _, r := range roots {
		if err := s.mark(ctx, r, live); err != nil {
			return err
		}
	}
	var batch []mh.Multihash
	var freed int64
	flush := func() error {
		err := s.deleteBlocks(batch)
		if errors.Is(err, ErrDiskFull) {
			// Each delete is one more index entry until a compaction
			// drops it with the entry it deletes: on a disk full of tiny
			// blocks, the deletes alone would fill it again.
			if err := s.compactIndex(); err != nil {
				return err
			}
			err = s.deleteBlocks(batch)
		}
		if err == nil {
			res.Removed += len(batch)
			res.FreedBytes += freed
		}
		batch, freed = batch[:0], 0
		return err
	}
	for _, h := range dead {
		if _, ok := live[string(h)]; ok {
			res.Kept++
			continue
		}
		size, err := s.GetSize(ctx, cid.NewCidV1(cid.Raw, h))
		if ipld.IsNotFound(err) {
			continue // a file-referenced block whose file changed: dropped
		}
		if err != nil {
			return err
		}
		batch = append(batch, h)
		freed += int64(size)
		if len(batch) == sweepBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if len(batch) > 0 {
		return flush()
	}
	return nil
}

// sweepBatch is how many blocks one transaction of GC's sweep deletes.
const sweepBatch = 1024
