package blockstore

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"

	"github.com/dgraph-io/badger/v4"
	mh "github.com/multiformats/go-multihash"
	"golang.org/x/sys/unix"
)

// Where a block's bytes are kept, told by its index entry's UserMeta.
//
// Badger v4 writes its value log through mmap: measured here, 1 GiB of
// 1 MiB values took 2.5-3.2 s to write (page faults on a fresh mapping
// plus two copies) against 0.6 s with write(2), and every page written
// stays in the process's RSS. So Badger keeps the index, the records and
// the small blocks, and blocks of fileThreshold bytes or more (the 1 MiB
// leaves) go to files of their own, as Kubo's flatfs keeps them.
const (
	metaInline = 0 // the value is the block
	metaSplit  = 1 // in memory: the value is the head, prefixTail holds the rest
	metaFile   = 2 // the value is the block size (uvarint); the bytes are in a file

	fileThreshold = 64 << 10  // blocks this big or bigger live in files
	maxInline     = 1<<20 - 1 // the biggest value in-memory Badger accepts
)

func blockKey(h mh.Multihash) []byte { return key(prefixBlock, h) }
func tailKey(h mh.Multihash) []byte  { return key(prefixTail, h) }

func key(prefix string, h mh.Multihash) []byte {
	k := make([]byte, 0, len(prefix)+len(h))
	return append(append(k, prefix...), h...)
}

func keyHash(item *badger.Item) mh.Multihash { return mh.Multihash(item.Key()[len(prefixBlock):]) }

// value calls fn with the whole block behind item.
func (s *Store) value(txn *badger.Txn, item *badger.Item, fn func([]byte) error) error {
	switch item.UserMeta() {
	case metaFile:
		size, err := fileSize(item)
		if err != nil {
			return err
		}
		data, err := s.files.read(keyHash(item), size)
		if err != nil {
			return err
		}
		return fn(data)
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
	case metaFile:
		return fileSize(item)
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

func fileSize(item *badger.Item) (int64, error) {
	var size uint64
	err := item.Value(func(v []byte) error {
		n, k := binary.Uvarint(v)
		if k <= 0 {
			return errors.New("bad size in index")
		}
		size = n
		return nil
	})
	return int64(size), err
}

// setBlock stores one block: a big one in its file at once, its index
// entry (or a small block itself) in the write batch.
func (s *Store) setBlock(wb *badger.WriteBatch, h mh.Multihash, data []byte) error {
	switch {
	case s.files != nil && len(data) >= fileThreshold:
		if err := s.files.write(h, data); err != nil {
			return err
		}
		return wb.SetEntry(badger.NewEntry(blockKey(h), binary.AppendUvarint(nil, uint64(len(data)))).WithMeta(metaFile))
	case s.files == nil && len(data) > maxInline:
		if err := wb.SetEntry(badger.NewEntry(blockKey(h), data[:maxInline]).WithMeta(metaSplit)); err != nil {
			return err
		}
		return wb.Set(tailKey(h), data[maxInline:])
	default:
		return wb.Set(blockKey(h), data)
	}
}

// deleteBlock removes a block's index entry, then its file or tail.
func (s *Store) deleteBlock(h mh.Multihash) error {
	err := s.db.Update(func(txn *badger.Txn) error {
		if s.files == nil {
			if err := txn.Delete(tailKey(h)); err != nil {
				return err
			}
		}
		return txn.Delete(blockKey(h))
	})
	if err != nil || s.files == nil {
		return err
	}
	return s.files.remove(h)
}

// diskUsage is what the store occupies on disk now.
func (s *Store) diskUsage() int64 {
	if s.files == nil {
		lsm, vlog := s.db.Size()
		return lsm + vlog
	}
	var n int64
	filepath.WalkDir(filepath.Dir(s.files.dir), func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				n += st.Blocks * 512 // Badger's files are sparse: count what is allocated
			} else {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// fileDir holds big blocks, one file each, in 256 subfolders named by the
// last byte of the multihash.
type fileDir struct {
	dir     string
	root    *os.File    // for syncfs
	dirty   atomic.Bool // files written since the last sync
	durable bool        // sync flushes the files (Options.SyncFiles)
}

func openFileDir(dir string, durable bool) (*fileDir, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	root, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	return &fileDir{dir: dir, root: root, durable: durable}, nil
}

func (f *fileDir) path(h mh.Multihash) string {
	return filepath.Join(f.dir, hex.EncodeToString(h[len(h)-1:]), hex.EncodeToString(h))
}

// write puts data in h's file. The index entry is written after it, so a
// crash in between leaves only a stray file, which GC removes.
func (f *fileDir) write(h mh.Multihash, data []byte) error {
	p := f.path(h)
	err := os.WriteFile(p, data, 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		if err = os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
			err = os.WriteFile(p, data, 0o644)
		}
	}
	f.dirty.Store(true)
	return err
}

// read returns h's bytes; a missing or short file is reported as corrupt.
func (f *fileDir) read(h mh.Multihash, size int64) ([]byte, error) {
	data, err := os.ReadFile(f.path(h))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errCorrupt, err)
	}
	if int64(len(data)) != size {
		return nil, fmt.Errorf("%w: file has %d bytes, index says %d", errCorrupt, len(data), size)
	}
	return data, nil
}

var errCorrupt = errors.New("block file damaged")

func (f *fileDir) remove(h mh.Multihash) error {
	err := os.Remove(f.path(h))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// sync makes the files written so far durable with one syncfs(2) rather
// than an fsync per block.
func (f *fileDir) sync() error {
	if f == nil || !f.durable || !f.dirty.Swap(false) {
		return nil
	}
	return unix.Syncfs(int(f.root.Fd()))
}

func (f *fileDir) close() error {
	if f == nil {
		return nil
	}
	return f.root.Close()
}
