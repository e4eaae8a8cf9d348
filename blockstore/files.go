package blockstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	mh "github.com/multiformats/go-multihash"
)

// File references. A block fetched for a get is written once, into the
// file the get exports, and the index records where in that file it is
// (as Kubo's filestore does for `add --nocopy`) instead of a second copy
// in a pack. The file is the user's: every read of such a block is
// hash-checked, and a block whose bytes changed is dropped from the index
// and reported missing, so it is fetched again.

// FileRef says a block's bytes are at Off in a file.
type FileRef struct {
	Cid  cid.Cid
	Off  int64
	Size int
}

// fileRef is a decoded metaFile value.
type fileRef struct {
	path string
	off  int64
	size int64
}

func (r fileRef) encode() []byte {
	b := binary.AppendUvarint(nil, uint64(r.off))
	b = binary.AppendUvarint(b, uint64(r.size))
	return append(b, r.path...)
}

func decodeFileRef(v []byte) (fileRef, error) {
	off, k := binary.Uvarint(v)
	if k <= 0 {
		return fileRef{}, fmt.Errorf("%w: bad file reference in index", ErrCorrupt)
	}
	v = v[k:]
	size, k := binary.Uvarint(v)
	if k <= 0 {
		return fileRef{}, fmt.Errorf("%w: bad file reference in index", ErrCorrupt)
	}
	return fileRef{path: string(v[k:]), off: int64(off), size: int64(size)}, nil
}

func itemFileRef(item *badger.Item) (fileRef, error) {
	var r fileRef
	err := item.Value(func(v []byte) error {
		var err error
		r, err = decodeFileRef(v)
		return err
	})
	return r, err
}

// AddFileRefs records that the blocks' bytes are in the file at path (an
// absolute path), for the blocks the store keeps no copy of: a block not
// in the index, or one it points at in a file already (that reference is
// replaced: the file may be gone, or have been renamed). It does not sync.
func (s *Store) AddFileRefs(_ context.Context, path string, refs []FileRef) error {
	if len(refs) == 0 {
		return nil
	}
	defer s.writing()()
	set, err := s.absent(len(refs), func(i int) cid.Cid { return refs[i].Cid }, metaFile)
	if err != nil {
		return fmt.Errorf("add file references: %w", err)
	}
	kv := 0
	for _, i := range set {
		kv += len(prefixBlock) + len(refs[i].Cid.Hash()) + 2*binary.MaxVarintLen64 + len(path)
	}
	done, err := s.space.admit(0, indexBytes(len(set), kv), true)
	if err != nil {
		return fmt.Errorf("add file references: %w", err)
	}
	defer done()
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for _, i := range set {
		r := refs[i]
		v := fileRef{path: path, off: r.Off, size: int64(r.Size)}.encode()
		if err := wb.SetEntry(badger.NewEntry(blockKey(r.Cid.Hash()), v).WithMeta(metaFile)); err != nil {
			return fmt.Errorf("add file references: %w", err)
		}
	}
	if err := wb.Flush(); err != nil {
		return fmt.Errorf("add file references: %w", s.space.noSpace(err))
	}
	return nil
}

// fileRefPresent is a cheap look at a file-referenced block, without
// reading it: its file is there and long enough (a *changedError if not).
func fileRefPresent(item *badger.Item) error {
	r, err := itemFileRef(item)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(r.path); err != nil || !fi.Mode().IsRegular() || fi.Size() < r.off+r.size {
		return &changedError{r}
	}
	return nil
}

// readFileRef reads r into buf (r.size long) and checks it against h: a
// *changedError if the file no longer holds those bytes.
func readFileRef(r fileRef, h mh.Multihash, buf []byte) error {
	changed := &changedError{r}
	f, err := os.Open(r.path)
	if err != nil {
		return changed
	}
	defer f.Close()
	if _, err := f.ReadAt(buf, r.off); err != nil {
		return changed
	}
	dec, err := mh.Decode(h)
	if err != nil {
		return changed
	}
	if got, err := mh.Sum(buf, dec.Code, dec.Length); err != nil || string(got) != string(h) {
		return changed
	}
	return nil
}

// missingIfChanged turns a changed file-referenced block, or a damaged
// stored one, into a missing one: its index entry is dropped, so it is
// fetched again.
func (s *Store) missingIfChanged(c cid.Cid, err error) error {
	var ce *changedError
	var de *damagedError
	switch {
	case errors.As(err, &ce):
		s.dropChanged(c.Hash(), ce.r)
	case errors.As(err, &de):
		s.log.Warn("a stored block is damaged; dropped it", "cid", c)
		s.dropDamaged(de)
	default:
		return err
	}
	return ipld.ErrNotFound{Cid: c}
}

// dropChanged deletes h's index entry if it is still the reference r,
// whose file changed.
func (s *Store) dropChanged(h mh.Multihash, r fileRef) {
	done, err := s.begin(0, indexBytes(1, len(blockKey(h))), false)
	if err != nil {
		return // a later read finds it changed again
	}
	defer done()
	s.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(blockKey(h))
		if err != nil || item.UserMeta() != metaFile {
			return nil
		}
		if cur, err := itemFileRef(item); err != nil || cur != r {
			return nil
		}
		return txn.Delete(blockKey(h))
	})
}

// MissingFiles lists the files the store points into that are gone or
// shorter than the blocks it points at (moved or deleted since a get
// wrote them), each once. It only looks at each file, reading nothing:
// an edit in place shows at Verify.
func (s *Store) MissingFiles() ([]string, error) {
	var out []string
	size := map[string]int64{} // path → its size; -1 if it is not a file
	named := map[string]bool{}
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixBlock)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			if item.UserMeta() != metaFile {
				continue
			}
			r, err := itemFileRef(item)
			if err != nil {
				return err
			}
			n, ok := size[r.path]
			if !ok {
				n = -1
				if fi, err := os.Stat(r.path); err == nil && fi.Mode().IsRegular() {
					n = fi.Size()
				}
				size[r.path] = n
			}
			if n < r.off+r.size && !named[r.path] {
				named[r.path] = true
				out = append(out, r.path)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("missing files: %w", err)
	}
	return out, nil
}
