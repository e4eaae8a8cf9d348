package blockstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/dgraph-io/badger/v4"
	mh "github.com/multiformats/go-multihash"
)

// Where a block's bytes are kept, told by its index entry's UserMeta.
//
// Badger v4 writes its value log through mmap, which pays a page fault
// per fresh page and two copies, and keeps every page written in the
// process's RSS; a file per block, as Kubo's flatfs does it, pays the
// kernel for each file created (docs/performance.md). So Badger keeps the
// index, the records and the tiny blocks, and blocks of packThreshold
// bytes or more are appended with write(2) to pack files; GC rewrites
// packs that are mostly dead. Small files' blocks go to packs too: kept
// in Badger's tables, every compaction rewrote them and held them in
// memory.
const (
	metaInline = 0 // the value is the block
	metaSplit  = 1 // in memory: the value is the head, prefixTail holds the rest
	metaPacked = 2 // the value is pack id, offset, size (uvarints); the bytes are in the pack
	metaFile   = 3 // the value is offset, size (uvarints) and a path; the bytes are in that file (files.go)

	packThreshold = 64        // blocks this big or bigger go to packs
	maxPackSize   = 256 << 20 // a pack is sealed past this size; GC works a pack at a time
	maxInline     = 1<<20 - 1 // the biggest value in-memory Badger accepts
	maxLocLen     = 3 * binary.MaxVarintLen64
	maxHashLen    = 2 + 64 // a multihash of sha2-512, the longest kind in use
)

func blockKey(h mh.Multihash) []byte { return key(prefixBlock, h) }
func tailKey(h mh.Multihash) []byte  { return key(prefixTail, h) }

func key(prefix string, h mh.Multihash) []byte {
	k := make([]byte, 0, len(prefix)+len(h))
	return append(append(k, prefix...), h...)
}

func keyHash(item *badger.Item) mh.Multihash { return mh.Multihash(item.Key()[len(prefixBlock):]) }

// loc is where a packed block lives.
type loc struct {
	pack uint64
	off  int64
	size int64
}

func (l loc) encode() []byte {
	b := binary.AppendUvarint(nil, l.pack)
	b = binary.AppendUvarint(b, uint64(l.off))
	return binary.AppendUvarint(b, uint64(l.size))
}

func decodeLoc(item *badger.Item) (loc, error) {
	var l loc
	err := item.Value(func(v []byte) error {
		var vals [3]uint64
		for i := range vals {
			n, k := binary.Uvarint(v)
			if k <= 0 {
				return fmt.Errorf("%w: bad pack location in index", ErrCorrupt)
			}
			vals[i], v = n, v[k:]
		}
		l = loc{pack: vals[0], off: int64(vals[1]), size: int64(vals[2])}
		return nil
	})
	return l, err
}

// value calls fn with the whole block behind item, valid only during the
// call: a packed block is read into a pooled buffer. The bytes are
// checked against the key first: a *damagedError (or, for a file
// reference, a *changedError) if they no longer match, so that an export
// never writes bytes a disk damaged.
func (s *Store) value(txn *badger.Txn, item *badger.Item, fn func([]byte) error) error {
	return s.valueChecked(txn, item, true, fn)
}

// valueChecked is value, checking the bytes of blocks the store holds
// itself only when check is set. A file reference's bytes are always
// checked: its file is the user's, who may change it at any time.
func (s *Store) valueChecked(txn *badger.Txn, item *badger.Item, check bool, fn func([]byte) error) error {
	if check && item.UserMeta() != metaFile { // readFileRef checks those
		h := keyHash(item)
		inner := fn
		fn = func(data []byte) error {
			if !matches(h, data) {
				return newDamaged(item)
			}
			return inner(data)
		}
	}
	switch item.UserMeta() {
	case metaPacked:
		l, err := decodeLoc(item)
		if err != nil {
			return err
		}
		return s.packs.view(l, fn)
	case metaFile:
		r, err := itemFileRef(item)
		if err != nil {
			return err
		}
		return withViewBuf(r.size, func(buf []byte) error {
			if err := readFileRef(r, keyHash(item), buf); err != nil {
				return err
			}
			return fn(buf)
		})
	case metaSplit:
		head, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		tail, err := txn.Get(tailKey(keyHash(item)))
		if err != nil {
			return err
		}
		return tail.Value(func(t []byte) error { return fn(append(head, t...)) })
	default:
		return item.Value(fn)
	}
}

// valueSize is the size of the block behind item.
func (s *Store) valueSize(txn *badger.Txn, item *badger.Item) (int64, error) {
	switch item.UserMeta() {
	case metaPacked:
		l, err := decodeLoc(item)
		return l.size, err
	case metaFile:
		r, err := itemFileRef(item)
		return r.size, err
	case metaSplit:
		tail, err := txn.Get(tailKey(keyHash(item)))
		if err != nil {
			return 0, err
		}
		return item.ValueSize() + tail.ValueSize(), nil
	default:
		return item.ValueSize(), nil
	}
}

// setBlocks stores blocks whose keys are not yet in the index: big ones
// appended to the current pack in one go, then every index entry (and the
// small blocks themselves) in one write batch. The pack bytes come first,
// so a crash in between leaves only dead bytes in a pack, which GC drops.
func (s *Store) setBlocks(wb *badger.WriteBatch, hs []mh.Multihash, data [][]byte) error {
	var big [][]byte
	var bigBytes int64
	kv := 0 // index keys and values
	for i, d := range data {
		kv += len(prefixBlock) + len(hs[i])
		if s.packs != nil && len(d) >= packThreshold {
			big = append(big, d)
			bigBytes += int64(len(d))
			kv += maxLocLen
		} else {
			kv += len(d)
		}
	}
	done, err := s.space.admit(bigBytes, indexBytes(len(data), kv), true)
	if err != nil {
		return err
	}
	// The index entries reach Badger at the batch's Flush, after done:
	// they are small beside the slack.
	defer done()
	locs, err := s.packs.write(big)
	if err != nil {
		return err
	}
	for i, d := range data {
		h := hs[i]
		switch {
		case s.packs != nil && len(d) >= packThreshold:
			err = wb.SetEntry(badger.NewEntry(blockKey(h), locs[0].encode()).WithMeta(metaPacked))
			locs = locs[1:]
		case s.packs == nil && len(d) > maxInline:
			if err = wb.SetEntry(badger.NewEntry(blockKey(h), d[:maxInline]).WithMeta(metaSplit)); err == nil {
				err = wb.Set(tailKey(h), d[maxInline:])
			}
		default:
			err = wb.Set(blockKey(h), d)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// deleteBlock removes a block's index entry (and tail, if split). A packed
// block's bytes stay dead in its pack until GC rewrites the pack.
func (s *Store) deleteBlock(h mh.Multihash) error {
	return s.deleteBlocks([]mh.Multihash{h})
}

// deleteBlocks is deleteBlock for many blocks, in one transaction.
func (s *Store) deleteBlocks(hs []mh.Multihash) error {
	keys := 0
	for _, h := range hs {
		keys += 2 * len(blockKey(h))
	}
	done, err := s.begin(0, indexBytes(2*len(hs), keys), false)
	if err != nil {
		return err
	}
	defer done()
	return s.space.noSpace(s.db.Update(func(txn *badger.Txn) error {
		for _, h := range hs {
			if s.packs == nil {
				if err := txn.Delete(tailKey(h)); err != nil {
					return err
				}
			}
			if err := txn.Delete(blockKey(h)); err != nil {
				return err
			}
		}
		return nil
	}))
}

// diskUsage is what the store occupies on disk now.
func (s *Store) diskUsage() int64 {
	if s.packs == nil {
		lsm, vlog := s.db.Size()
		return lsm + vlog
	}
	var n int64
	filepath.WalkDir(filepath.Dir(s.packs.dir), func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == spareName {
			return nil
		}
		if info, err := d.Info(); err == nil {
			n += allocated(info) // Badger's files are sparse: count what is allocated
		}
		return nil
	})
	return n
}

// ErrCorrupt is wrapped by errors about damaged blocks or a damaged index.
var ErrCorrupt = errors.New("block damaged on disk")

// changedError is a file-referenced block whose file no longer holds its
// bytes; it counts as damaged for Verify and as missing for readers.
type changedError struct{ r fileRef }

func (e *changedError) Error() string {
	return fmt.Sprintf("%v: %s changed at %d", ErrCorrupt, e.r.path, e.r.off)
}

func (e *changedError) Unwrap() error { return ErrCorrupt }

// damagedError is a stored block whose bytes no longer hash to its key;
// it counts as damaged for Verify and as missing for readers. It keeps
// the index entry it was read through, so that only that entry is
// dropped: GC may have moved the block meanwhile.
type damagedError struct {
	h     mh.Multihash
	entry []byte
}

func newDamaged(item *badger.Item) *damagedError {
	entry, _ := item.ValueCopy(nil)
	return &damagedError{h: mh.Multihash(bytes.Clone(keyHash(item))), entry: entry}
}

// dropDamaged deletes h's index entry if it is still the one a read
// found damaged.
func (s *Store) dropDamaged(e *damagedError) error {
	done, err := s.begin(0, indexBytes(2, 2*len(blockKey(e.h))), false)
	if err != nil {
		return err
	}
	defer done()
	return s.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(blockKey(e.h))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		cur, err := item.ValueCopy(nil)
		if err != nil || !bytes.Equal(cur, e.entry) {
			return err
		}
		if s.packs == nil {
			if err := txn.Delete(tailKey(e.h)); err != nil {
				return err
			}
		}
		return txn.Delete(blockKey(e.h))
	})
}

func (e *damagedError) Error() string { return fmt.Sprintf("%v: %s", ErrCorrupt, e.h.B58String()) }

func (e *damagedError) Unwrap() error { return ErrCorrupt }

// matches reports whether data hashes to h.
func matches(h mh.Multihash, data []byte) bool {
	dec, err := mh.Decode(h)
	if err != nil {
		return false
	}
	got, err := mh.Sum(data, dec.Code, dec.Length)
	return err == nil && string(got) == string(h)
}

// packDir holds the pack files NNNNNNNN.pack: big blocks one after the
// other, appended by one writer at a time and read with pread.
type packDir struct {
	dir     string
	durable bool // sync flushes the current pack (Options.SyncFiles)

	mu      sync.Mutex // guards the fields below
	cur     *os.File   // pack being appended to
	curID   uint64
	curSize int64
	dirty   bool
	readers map[uint64]*os.File
	space   *space // admits appends; nil admits all

	// gc is held for reading by every read and for writing while GC moves
	// blocks out of packs and deletes them.
	gc sync.RWMutex
}

func packName(id uint64) string { return fmt.Sprintf("%08d.pack", id) }

func openPackDir(dir string, durable bool) (*packDir, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p := &packDir{dir: dir, durable: durable, readers: map[uint64]*os.File{}}
	ids, err := p.ids()
	if err != nil {
		return nil, err
	}
	id := uint64(1)
	if len(ids) > 0 {
		id = ids[len(ids)-1] // keep appending to the newest pack
	}
	return p, p.openCurrent(id)
}

// ids lists the pack ids on disk in order.
func (p *packDir) ids() ([]uint64, error) {
	ents, err := os.ReadDir(p.dir)
	if err != nil {
		return nil, err
	}
	var ids []uint64
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".pack"); ok {
			if id, err := strconv.ParseUint(n, 10, 64); err == nil {
				ids = append(ids, id)
			}
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids, nil
}

// openCurrent makes pack id the one appended to. Called with mu held or
// before the store is shared.
func (p *packDir) openCurrent(id uint64) error {
	f, err := os.OpenFile(filepath.Join(p.dir, packName(id)), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return err
	}
	if p.cur != nil {
		if err := p.closeCurrent(); err != nil {
			return err
		}
	}
	p.cur, p.curID, p.curSize = f, id, size
	return nil
}

func (p *packDir) closeCurrent() error { return p.cur.Close() }

// append writes blocks to the current pack, as write does, once there is
// room for them and their index entries beside Badger's headroom: GC
// moves blocks with it, to free space.
func (p *packDir) append(data [][]byte) ([]loc, error) {
	var n int64
	for _, d := range data {
		n += int64(len(d))
	}
	done, err := p.space.admit(n, indexBytes(len(data), len(data)*(len(prefixBlock)+maxHashLen+maxLocLen)), false)
	if err != nil {
		return nil, err
	}
	defer done()
	return p.write(data)
}

// write writes blocks to the current pack, sealing it and starting the
// next when it is full, and returns where each went. The caller has
// admitted them.
func (p *packDir) write(data [][]byte) ([]loc, error) {
	if len(data) == 0 {
		return nil, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	locs := make([]loc, 0, len(data))
	for _, d := range data {
		if p.curSize > 0 && p.curSize+int64(len(d)) > maxPackSize {
			if err := p.rotate(); err != nil {
				return nil, err
			}
		}
		if _, err := p.cur.WriteAt(d, p.curSize); err != nil {
			return nil, p.space.noSpace(err)
		}
		locs = append(locs, loc{pack: p.curID, off: p.curSize, size: int64(len(d))})
		p.curSize += int64(len(d))
		p.dirty = true
	}
	return locs, nil
}

// rotate seals the current pack and starts a new one. Called with mu held.
func (p *packDir) rotate() error {
	if p.durable && p.dirty {
		if err := p.cur.Sync(); err != nil {
			return err
		}
		p.dirty = false
	}
	return p.openCurrent(p.curID + 1)
}

// read returns the bytes at l; a missing or short pack is reported as
// corrupt.
func (p *packDir) read(l loc) ([]byte, error) {
	p.gc.RLock()
	defer p.gc.RUnlock()
	return p.readAt(l)
}

// readAt is read for callers that hold gc already.
func (p *packDir) readAt(l loc) ([]byte, error) {
	buf := make([]byte, l.size)
	return buf, p.readInto(l, buf)
}

// readInto reads the bytes at l into buf, which is l.size long. Called
// with gc held.
func (p *packDir) readInto(l loc, buf []byte) error {
	f, err := p.reader(l.pack)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if _, err := f.ReadAt(buf, l.off); err != nil {
		return fmt.Errorf("%w: pack %d at %d: %v", ErrCorrupt, l.pack, l.off, err)
	}
	return nil
}

// viewBufs holds read buffers for view. Reading a block into a buffer
// that was used before, rather than a fresh one, saves the kernel mapping
// new pages for every block served.
var viewBufs = sync.Pool{New: func() any { return new([]byte) }}

// withViewBuf calls fn with a pooled buffer of size bytes.
func withViewBuf(size int64, fn func([]byte) error) error {
	bp := viewBufs.Get().(*[]byte)
	defer viewBufs.Put(bp)
	if int64(cap(*bp)) < size {
		*bp = make([]byte, size)
	}
	return fn((*bp)[:size])
}

// view calls fn with the bytes at l, in a pooled buffer valid only during
// the call.
func (p *packDir) view(l loc, fn func([]byte) error) error {
	return withViewBuf(l.size, func(buf []byte) error {
		p.gc.RLock()
		err := p.readInto(l, buf)
		p.gc.RUnlock()
		if err != nil {
			return err
		}
		return fn(buf)
	})
}

func (p *packDir) reader(id uint64) (*os.File, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f, ok := p.readers[id]; ok {
		return f, nil
	}
	f, err := os.Open(filepath.Join(p.dir, packName(id)))
	if err != nil {
		return nil, err
	}
	p.readers[id] = f
	return f, nil
}

// remove deletes a pack nothing points into any more. Called with gc held.
func (p *packDir) remove(id uint64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f, ok := p.readers[id]; ok {
		f.Close()
		delete(p.readers, id)
	}
	err := os.Remove(filepath.Join(p.dir, packName(id)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// sync flushes the current pack to disk when SyncFiles is on.
func (p *packDir) sync() error {
	if p == nil || !p.durable {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.dirty {
		return nil
	}
	p.dirty = false
	return p.cur.Sync()
}

func (p *packDir) close() error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.readers {
		f.Close()
	}
	return p.closeCurrent()
}
