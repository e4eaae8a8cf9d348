package blockstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	bstore "github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	mh "github.com/multiformats/go-multihash"
)

// Key prefixes inside the one Badger database.
const (
	prefixBlock = "b/" // + multihash bytes → block bytes
	prefixShare = "s/" // + CID bytes → JSON Record
	prefixPin   = "p/" // + CID bytes → JSON Record
	prefixFlush = "f/" // written and dropped at once; see compactIndex
	prefixTail  = "t/" // + multihash bytes → second half of a split block (in-memory stores only)
	prefixUsed  = "u/" // + CID bytes → when a root was last used (used.go)
	prefixGet   = "g/" // + 8-byte big-endian ID → JSON GetRecord
)

// Badger tuning: keys, records and blocks under packThreshold live in the
// LSM tree; bigger blocks live in pack files (see values.go).
const (
	// Above a file reference (its path is at most 4 KiB) and the blocks
	// kept inline, so those never go to the value log; only a rare long
	// record might.
	valueThreshold   = 8 << 10
	valueLogFileSize = 64 << 20
	memTableSize     = 16 << 20 // keys and small values only; keeps RSS low
	baseTableSize    = 1 << 20
)

// Options configures Open. The zero value opens an on-disk store.
type Options struct {
	// InMemory keeps everything in RAM (tests, throwaway nodes); dir is ignored.
	InMemory bool
	// Logger receives Badger's warnings; nil discards them.
	Logger *slog.Logger
	// SyncFiles makes Sync flush the block files to disk as well as the
	// index. Off, as Kubo's flatfs is by default: a killed process loses
	// nothing (the page cache survives it), and after a power cut a block
	// whose file did not reach the disk is reported by Verify and fetched
	// again; on, a big import waits for the disk.
	SyncFiles bool
}

// Store is a Badger-backed block store with share and pin records.
type Store struct {
	db    *badger.DB
	log   *slog.Logger
	packs *packDir // nil in memory
	space *space   // nil in memory

	holds    holds
	sweeping sync.RWMutex // Has shares it; GC's sweep takes it alone
	gcMu     sync.Mutex   // one GC at a time
	dropMu   sync.RWMutex // writers share it; GC's DropPrefix takes it alone
	// closeMu: Sync shares it, Close takes it alone. Badger's Sync after
	// its Close dereferences nil: a get the daemon ran could still reach
	// its commit point while the node closed.
	closeMu sync.RWMutex
	closed  bool
	trim    *trimmer // nil in memory
}

// ErrClosed is returned by Sync after Close.
var ErrClosed = errors.New("block store closed")

// writing marks a write to Badger under way until the returned func is
// called, so GC's DropPrefix, which refuses writes, waits for it and it
// for DropPrefix.
func (s *Store) writing() func() {
	s.dropMu.RLock()
	return s.dropMu.RUnlock
}

// begin admits a write (see space.admit) and marks it under way (see
// writing); the caller calls done once it is written.
func (s *Store) begin(data, index int64, grow bool) (done func(), err error) {
	admitted, err := s.space.admit(data, index, grow)
	if err != nil {
		return nil, err
	}
	w := s.writing()
	return func() { w(); admitted() }, nil
}

var (
	_ bstore.Blockstore = (*Store)(nil)
	_ bstore.Viewer     = (*Store)(nil)
)

// Stat summarises what the store holds.
type Stat struct {
	Blocks int   // number of blocks
	Bytes  int64 // sum of block sizes
	Disk   int64 // bytes allocated on disk: Badger's files and the block files
	// Referenced is the part of Bytes kept in files gets wrote (the
	// store points into them): the rest is what the store holds itself.
	Referenced int64
}

// GCResult reports what a GC pass did.
type GCResult struct {
	Kept, Removed int
	FreedBytes    int64 // block bytes deleted
}

// VerifyResult reports what a verify pass found.
type VerifyResult struct {
	Checked int
	Corrupt []cid.Cid // blocks whose bytes no longer hash to their key
	// Files are the files a get wrote that no longer hold the blocks the
	// store points at in them: edited, moved or deleted since.
	Files   []string
	Dropped int
}

// Open opens (or creates) the store in dir: Badger in dir/index, blocks of
// packThreshold bytes or more in dir/packs. When the disk is too full for
// Badger to open for writing, the store opens read-only (its writes fail
// with ErrDiskFull) if it can, else Open fails with ErrDiskFull.
func Open(dir string, o Options) (*Store, error) {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	opts := badger.DefaultOptions(filepath.Join(dir, "index")).
		WithInMemory(o.InMemory).
		WithLogger(badgerLogger{logger}).
		WithSyncWrites(false). // Sync is called at commit points
		WithNumVersionsToKeep(1).
		WithCompression(options.None). // block bytes are hashes of compressed or random data more often than not
		WithBlockCacheSize(0).
		WithValueThreshold(valueThreshold).
		WithValueLogFileSize(valueLogFileSize).
		WithMemTableSize(memTableSize).
		// Tables of 1 MiB at every level: a compaction holds a builder of
		// twice a table's size for each of 8 or more tables at once, and
		// with Badger's default (2 MiB, doubling per level) that passed
		// the Go heap's limit, which then collected without pause.
		WithBaseTableSize(baseTableSize).
		WithNumMemtables(2).
		WithNumLevelZeroTables(1). // compact L0 at once: deletes reach the value log's discard stats, so GC can reclaim
		WithNumLevelZeroTablesStall(8).
		WithNumCompactors(2).
		WithDetectConflicts(false)
	opts.TableSizeMultiplier = 1
	s := &Store{log: logger}
	if o.InMemory {
		// With no value log, in-memory Badger keeps values only below
		// 1 MiB; bigger blocks are split in two (values.go).
		opts = opts.WithDir("").WithValueDir("").WithValueThreshold(maxInline + 1)
	} else {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("open block store %s: %w", dir, err)
		}
		s.space = newSpace(dir, opts)
		readOnly, err := s.space.beforeOpen()
		if err != nil {
			return nil, fmt.Errorf("open block store %s: %w", dir, err)
		}
		if readOnly != nil {
			logger.Warn("opening the block store read-only", "err", readOnly)
			opts = opts.WithReadOnly(true)
		}
		packs, err := openPackDir(filepath.Join(dir, "packs"), o.SyncFiles)
		if err != nil {
			return nil, fmt.Errorf("open block store %s: %w", dir, s.space.noSpace(err))
		}
		packs.space = s.space
		s.packs = packs
	}
	db, err := badger.Open(opts)
	if err != nil {
		s.packs.close()
		return nil, fmt.Errorf("open block store %s: %w", dir, s.space.noSpace(err))
	}
	s.db = db
	if !o.InMemory && !opts.ReadOnly {
		s.trim = startTrimmer(db, opts.Dir)
	}
	s.space.keepSpare()
	return s, nil
}

// Close flushes and closes the database.
func (s *Store) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.trim.stop()
	err := s.db.Close()
	if ferr := s.packs.close(); err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("close block store: %w", s.space.noSpace(err))
	}
	s.space.keepSpare()
	return nil
}

// Sync makes every write so far durable. Call it at commit points (end of
// an import or a download), not per block.
func (s *Store) Sync() error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	// Block files first: an index entry must never be durable before the
	// bytes it points to.
	if err := s.packs.sync(); err != nil {
		return fmt.Errorf("sync block store: %w", s.space.noSpace(err))
	}
	if err := s.db.Sync(); err != nil {
		return fmt.Errorf("sync block store: %w", s.space.noSpace(err))
	}
	return nil
}

// Has reports whether the block is stored.
func (s *Store) Has(_ context.Context, c cid.Cid) (bool, error) {
	if _, ok := fixed(c); ok {
		return true, nil
	}
	// A get decides by Has to use a block rather than fetch it: not
	// while GC's sweep deletes (see sweep).
	s.sweeping.RLock()
	defer s.sweeping.RUnlock()
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(blockKey(c.Hash()))
		if err == nil && item.UserMeta() == metaFile {
			err = fileRefPresent(item)
		}
		return err
	})
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, new(*changedError)):
		s.missingIfChanged(c, err)
		return false, nil
	case errors.Is(err, badger.ErrKeyNotFound):
		return false, nil
	default:
		return false, fmt.Errorf("has %s: %w", c, err)
	}
}

// lookup calls fn with the index entry of c's block, in a read
// transaction; a missing block gives ipld.ErrNotFound.
func (s *Store) lookup(c cid.Cid, fn func(*badger.Txn, *badger.Item) error) error {
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(blockKey(c.Hash()))
		if err != nil {
			return err
		}
		return fn(txn, item)
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ipld.ErrNotFound{Cid: c}
	}
	return err
}

// View calls fn with the block's bytes, valid only during the call.
func (s *Store) View(_ context.Context, c cid.Cid, fn func([]byte) error) error {
	if data, ok := fixed(c); ok {
		return fn(data)
	}
	return s.missingIfChanged(c, s.lookup(c, func(txn *badger.Txn, item *badger.Item) error {
		return s.value(txn, item, fn)
	}))
}

// ServeView is View for serving peers: the bytes of blocks the store
// holds itself are not re-hashed on the way out, which would cost a get
// over loopback 28% of its speed; Scrub finds those a disk damaged, and a
// getter drops a damaged block and asks another peer. A file reference
// is checked, as on every read.
func (s *Store) ServeView(_ context.Context, c cid.Cid, fn func([]byte) error) error {
	if data, ok := fixed(c); ok {
		return fn(data)
	}
	return s.missingIfChanged(c, s.lookup(c, func(txn *badger.Txn, item *badger.Item) error {
		return s.valueChecked(txn, item, false, fn)
	}))
}

// Get returns the block. A missing block gives ipld.ErrNotFound.
func (s *Store) Get(_ context.Context, c cid.Cid) (blocks.Block, error) {
	if data, ok := fixed(c); ok {
		return blocks.NewBlockWithCid(append([]byte(nil), data...), c)
	}
	var data []byte
	err := s.lookup(c, func(txn *badger.Txn, item *badger.Item) error {
		var err error
		switch item.UserMeta() {
		case metaInline:
			data, err = item.ValueCopy(nil)
		case metaPacked:
			var l loc
			if l, err = decodeLoc(item); err == nil {
				data, err = s.packs.read(l)
			}
		case metaFile:
			var r fileRef
			if r, err = itemFileRef(item); err == nil {
				data = make([]byte, r.size)
				err = readFileRef(r, keyHash(item), data)
			}
		default: // split: value joins head and tail (and checks them) in a buffer of its own
			return s.value(txn, item, func(b []byte) error { data = b; return nil })
		}
		if err == nil && item.UserMeta() != metaFile && !matches(keyHash(item), data) {
			err = newDamaged(item)
		}
		return err
	})
	if err != nil {
		return nil, s.missingIfChanged(c, err)
	}
	return blocks.NewBlockWithCid(data, c)
}

// GetSize returns the block's size in bytes.
func (s *Store) GetSize(_ context.Context, c cid.Cid) (int, error) {
	if data, ok := fixed(c); ok {
		return len(data), nil
	}
	size := -1
	err := s.lookup(c, func(txn *badger.Txn, item *badger.Item) error {
		if item.UserMeta() == metaFile {
			if err := fileRefPresent(item); err != nil {
				return err
			}
		}
		n, err := s.valueSize(txn, item)
		size = int(n)
		return err
	})
	if err != nil {
		return -1, s.missingIfChanged(c, err)
	}
	return size, nil
}

// Put stores one block.
func (s *Store) Put(ctx context.Context, b blocks.Block) error {
	return s.PutMany(ctx, []blocks.Block{b})
}

// PutMany stores blocks in one write batch, skipping those already held so
// the value log does not grow with duplicates. It does not sync.
func (s *Store) PutMany(_ context.Context, bs []blocks.Block) error {
	defer s.writing()()
	absent, err := s.absent(len(bs), func(i int) cid.Cid { return bs[i].Cid() }, -1)
	if err != nil {
		return fmt.Errorf("put blocks: %w", err)
	}
	var missing []blocks.Block
	for _, i := range absent {
		missing = append(missing, bs[i])
	}
	if len(missing) == 0 {
		return nil
	}
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	hs := make([]mh.Multihash, len(missing))
	data := make([][]byte, len(missing))
	for i, b := range missing {
		hs[i], data[i] = b.Cid().Hash(), b.RawData()
	}
	if err := s.setBlocks(wb, hs, data); err != nil {
		if err = s.space.noSpace(err); errors.Is(err, ErrDiskFull) {
			return fmt.Errorf("put blocks: %w", err)
		}
		// Badger's message can carry a whole value; keep its first line.
		msg, _, _ := strings.Cut(err.Error(), "\n")
		return fmt.Errorf("put blocks: %s", msg)
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("put blocks: %w", s.space.noSpace(err))
	}
	return nil
}

// absent returns the indexes, of n CIDs, of those with no index entry
// (neither stored nor referenced), or an entry whose UserMeta is
// replaceable (any: -1 for none), skipping fixed ones.
func (s *Store) absent(n int, cidAt func(int) cid.Cid, replaceable int) ([]int, error) {
	var out []int
	err := s.db.View(func(txn *badger.Txn) error {
		for i := range n {
			c := cidAt(i)
			if _, ok := fixed(c); ok {
				continue
			}
			item, err := txn.Get(blockKey(c.Hash()))
			switch {
			case errors.Is(err, badger.ErrKeyNotFound):
				out = append(out, i)
			case err != nil:
				return err
			case int(item.UserMeta()) == replaceable:
				out = append(out, i)
			}
		}
		return nil
	})
	return out, err
}

// DeleteBlock removes a block; deleting a missing block is not an error.
func (s *Store) DeleteBlock(_ context.Context, c cid.Cid) error {
	if err := s.deleteBlock(c.Hash()); err != nil {
		return fmt.Errorf("delete %s: %w", c, err)
	}
	return nil
}

// AllKeysChan lists every block as a CIDv1 with the raw codec (the store
// keeps multihashes, not codecs).
func (s *Store) AllKeysChan(ctx context.Context) (<-chan cid.Cid, error) {
	out := make(chan cid.Cid, 64)
	go func() {
		defer close(out)
		_ = s.eachBlockKey(func(h mh.Multihash) error {
			select {
			case out <- cid.NewCidV1(cid.Raw, h):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	return out, nil
}

// eachBlockKey calls fn for every stored block's multihash, without
// reading values.
func (s *Store) eachBlockKey(fn func(mh.Multihash) error) error {
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixBlock)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().KeyCopy(nil)
			if err := fn(mh.Multihash(k[len(prefixBlock):])); err != nil {
				return err
			}
		}
		return nil
	})
}

// Stat counts blocks and bytes.
func (s *Store) Stat(context.Context) (Stat, error) {
	var st Stat
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixBlock)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n, err := s.valueSize(txn, it.Item())
			if err != nil {
				return err
			}
			st.Blocks++
			st.Bytes += n
			if it.Item().UserMeta() == metaFile {
				st.Referenced += n
			}
		}
		return nil
	})
	st.Disk = s.diskUsage()
	if err != nil {
		return st, fmt.Errorf("stat: %w", err)
	}
	return st, nil
}

type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	b.l.Error(fmt.Sprintf(f, a...), "component", "badger")
}
func (b badgerLogger) Warningf(f string, a ...any) {
	b.l.Warn(fmt.Sprintf(f, a...), "component", "badger")
}
func (b badgerLogger) Infof(f string, a ...any) {
	b.l.Debug(fmt.Sprintf(f, a...), "component", "badger")
}
func (b badgerLogger) Debugf(f string, a ...any) {
	b.l.Debug(fmt.Sprintf(f, a...), "component", "badger")
}

// emptySHA256 is the sha2-256 multihash of zero bytes: the empty file's
// block under the import profile.
var emptySHA256, _ = mh.Sum(nil, mh.SHA2_256, -1)

// fixed returns the bytes of a block that its CID alone determines: an
// identity CID (the bytes are in it) or the empty block. Such blocks are
// never stored and never need the network; every reader of the store gets
// them here, once. (Kubo cannot fetch the empty block from another Kubo:
// Bitswap's server takes a zero size for "missing".)
func fixed(c cid.Cid) ([]byte, bool) {
	h := c.Hash()
	if string(h) == string(emptySHA256) {
		return []byte{}, true
	}
	if dec, err := mh.Decode(h); err == nil && dec.Code == mh.IDENTITY {
		return dec.Digest, true
	}
	return nil, false
}
