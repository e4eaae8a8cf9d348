package chunker

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	ft "github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/go-cid"
)

// The files a Placer writes: each under a temporary name, filled at
// offsets as its blocks come, adopted from an earlier run where it left
// them.

// outFile is one file being written.
type outFile struct {
	rel     string
	size    int64
	pending int      // spots of it not filled yet, its own root's included
	leaves  []Placed // its raw leaves and where they are in it, for Renamed
	f       *os.File // its temporary file, open for writing; nil until written
	st      *stream  // f's writes, pushed to disk as they fill it; nil once closed
	made    bool     // this run made the temporary file
	src     *os.File // a file already there to adopt leaves from, or nil
	keep    bool     // src is the file at rel itself, which must hold the DAG's bytes
	done    bool
}

// maxFileDepth bounds how deep a file's DAG may nest (a balanced DAG of
// 1024 links a node is 4 levels deep at 1 TiB).
const maxFileDepth = 32

// maxLeaf is the largest leaf read back to be adopted: the largest block
// the exchange carries.
const maxLeaf = 4 << 20

// newFile plans the file at rel (size -1: a single leaf, not known yet).
// A file already there is kept if it holds the DAG's bytes (checked as
// its leaves are planned), replaced with Force, refused otherwise; an
// earlier run's temporary file is read for the leaves it holds.
func (p *Placer) newFile(rel string, size int64) (*outFile, error) {
	f := &outFile{rel: rel, size: size, pending: 1}
	if p.fresh[filepath.Dir(rel)] {
		p.writing[f] = true
		p.total += max(size, 0)
		return f, p.needSpace(max(size, 0))
	}
	if err := p.checkFree(rel, true); err != nil {
		return nil, err
	}
	path := filepath.Join(p.dir, rel)
	if fi, err := os.Lstat(path); err == nil && !p.o.Force {
		if size >= 0 && fi.Size() != size {
			return nil, p.existsErr(f)
		}
		src, err := openNoFollow(path, os.O_RDONLY, 0)
		if err != nil {
			return nil, err
		}
		f.src, f.keep = src, true
	} else if src, err := openNoFollow(p.partName(rel), os.O_RDONLY, 0); err == nil {
		if fi, err := src.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
			f.src = src
		} else {
			src.Close()
		}
	}
	p.writing[f] = true
	if size > 0 {
		p.total += size
		there := int64(0) // bytes of the file, or of its part file, on disk
		if f.src != nil {
			if fi, err := f.src.Stat(); err == nil {
				there = fi.Size()
			}
		}
		if err := p.needSpace(max(size-there, 0)); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// partName is the temporary name of the file at rel.
func (p *Placer) partName(rel string) string {
	base := "." + filepath.Base(rel) + partSuffix
	if len(base) > maxNameLen { // a name near the limit: a name of its hash
		sum := sha256.Sum256([]byte(filepath.Base(rel)))
		base = "." + hex.EncodeToString(sum[:16]) + partSuffix
	}
	return filepath.Join(p.dir, filepath.Dir(rel), base)
}

// maxNameLen is the longest file name most file systems take.
const maxNameLen = 255

// isPartName reports whether name is one pollen gives a file being
// written: a DAG entry by that name would be another entry's temporary
// file.
func isPartName(name string) bool {
	return strings.HasPrefix(name, ".") && strings.HasSuffix(name, partSuffix)
}

// part places a node or leaf inside a file.
func (p *Placer) part(data []byte, s spot) (string, []Placed, error) {
	f := s.file
	if s.depth > maxFileDepth {
		return "", nil, fmt.Errorf("%s: file DAG deeper than %d levels", f.rel, maxFileDepth)
	}
	if s.c.Type() == cid.Raw {
		if s.size < 0 { // a file of one leaf: its size is the leaf's
			s.size, f.size = int64(len(data)), int64(len(data))
			p.total += f.size
			if err := p.needSpace(f.size); err != nil {
				return "", nil, err
			}
			if f.keep {
				if fi, err := f.src.Stat(); err != nil || fi.Size() != f.size {
					return "", nil, p.existsErr(f)
				}
			}
		}
		if int64(len(data)) != s.size || s.off+s.size > f.size {
			return "", nil, fmt.Errorf("%s: block %s of %d bytes where the DAG says %d at %d of %d", f.rel, s.c, len(data), s.size, s.off, f.size)
		}
		path, err := p.write(f, data, s.off)
		return path, nil, err
	}
	nd, fsn, err := p.decode(s.c, data)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", f.rel, err)
	}
	if t := fsn.Type(); t != ft.TFile && t != ft.TRaw {
		return "", nil, fmt.Errorf("%s: a %s inside a file", f.rel, t)
	}
	links, sizes := nd.Links(), fsn.BlockSizes()
	if len(sizes) != len(links) {
		return "", nil, fmt.Errorf("%s: node %s has %d links and %d block sizes", f.rel, s.c, len(links), len(sizes))
	}
	// A node's own data and its children's sizes must add up to what its
	// parent declared for it: otherwise children would overlap or leave a
	// gap, and the file would not be the DAG's content.
	sum := uint64(len(fsn.Data()))
	for _, n := range sizes {
		if sum+n < sum {
			return "", nil, fmt.Errorf("%s: node %s declares more than a file can hold", f.rel, s.c)
		}
		sum += n
	}
	if int64(sum) != s.size || sum > uint64(f.size) {
		return "", nil, fmt.Errorf("%s: node %s holds %d bytes where its parent says %d", f.rel, s.c, sum, s.size)
	}
	off := s.off
	if d := fsn.Data(); len(d) > 0 {
		f.pending++
		if _, err := p.write(f, d, off); err != nil {
			return "", nil, err
		}
		off += int64(len(d))
	}
	var adopted []Placed
	for i, l := range links {
		n := int64(sizes[i])
		if n < 0 || n > f.size || off+n > f.size {
			return "", adopted, fmt.Errorf("%s: node %s declares more than the file's %d bytes", f.rel, s.c, f.size)
		}
		if err := p.budget(false); err != nil {
			return "", adopted, err
		}
		if err := checkCID(l.Cid); err != nil {
			return "", adopted, fmt.Errorf("%s: %w", f.rel, err)
		}
		child := spot{c: l.Cid, file: f, off: off, size: n, kind: partSpot, depth: s.depth + 1}
		off += n
		if l.Cid.Type() == cid.Raw {
			f.leaves = append(f.leaves, Placed{Cid: l.Cid, Off: child.off, Size: int(n)})
			if pl, ok := p.adopt(f, child); ok {
				adopted = append(adopted, pl)
				continue
			}
			if f.keep {
				return "", adopted, p.existsErr(f)
			}
		}
		f.pending++
		p.wait(child)
	}
	return "", adopted, p.filled(f)
}

// write puts data at off in f and counts a spot of f filled. Called with
// mu held.
func (p *Placer) write(f *outFile, data []byte, off int64) (string, error) {
	if f.keep { // the file there must hold these bytes already
		buf := make([]byte, len(data))
		if _, err := f.src.ReadAt(buf, off); err != nil || string(buf) != string(data) {
			return "", p.existsErr(f)
		}
		p.progress(int64(len(data)))
		return f.src.Name(), p.filled(f)
	}
	if err := p.open(f); err != nil {
		return "", err
	}
	if _, err := f.f.WriteAt(data, off); err != nil {
		return "", fmt.Errorf("%s: %w", f.rel, diskFull(err, p.dir))
	}
	f.st.wrote(off, off+int64(len(data)))
	p.progress(int64(len(data)))
	return f.f.Name(), p.filled(f)
}

func (p *Placer) progress(n int64) {
	p.done += n
	if p.o.Progress != nil && p.planned {
		p.o.Progress.Progress(p.done, max(p.total, p.declared, p.done))
	}
}

// filled notes one spot of f filled; the last one completes it: its
// temporary file is cut to length and closed, and it goes to the journal
// until Finish names it. Called with mu held.
func (p *Placer) filled(f *outFile) error {
	f.pending--
	if f.pending > 0 || f.done {
		return nil
	}
	f.done = true
	if f.src != nil {
		f.src.Close()
		f.src = nil
	}
	if !f.keep {
		if err := p.open(f); err != nil { // an empty file is made here
			return err
		}
		var err error
		if !f.made { // an earlier run's file may be longer
			err = f.f.Truncate(f.size)
		}
		f.st.wait()
		if cerr := f.f.Close(); err == nil {
			err = cerr
		}
		f.f, f.st = nil, nil
		if err != nil {
			return fmt.Errorf("%s: %w", f.rel, err)
		}
	}
	delete(p.writing, f)
	r := record{kind: fileRecord, rel: f.rel, size: f.size, keep: f.keep, made: f.made}
	if !f.keep { // a file kept told the store where its leaves are already
		r.leaves = f.leaves
	}
	err := p.journal.add(r)
	f.leaves = nil
	if err == nil && p.o.FileDone != nil {
		p.o.FileDone(f.rel, f.size)
	}
	return err
}

// adopt keeps the leaf at s if the file an earlier run left (or the file
// already there) holds it. Called with mu held.
func (p *Placer) adopt(f *outFile, s spot) (Placed, bool) {
	if f.src == nil || s.size > maxLeaf || s.size < 0 {
		return Placed{}, false
	}
	buf := make([]byte, s.size)
	if _, err := f.src.ReadAt(buf, s.off); err != nil {
		return Placed{}, false
	}
	if got, err := s.c.Prefix().Sum(buf); err != nil || !got.Equals(s.c) {
		return Placed{}, false
	}
	p.progress(s.size)
	return Placed{Cid: s.c, Path: f.src.Name(), Off: s.off, Size: int(s.size)}, true
}

// open makes f's folders and opens its temporary file for writing, if not
// yet. Called with mu held.
func (p *Placer) open(f *outFile) error {
	if f.f != nil {
		return nil
	}
	if err := p.makeDirs(filepath.Dir(f.rel)); err != nil {
		return err
	}
	name := p.partName(f.rel)
	// openNoFollow: a link planted at the temporary name is never written
	// through. Not truncated: a store may point at leaves in it. O_EXCL
	// says whether this run made it.
	w, err := openNoFollow(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	made := err == nil
	if errors.Is(err, fs.ErrExist) {
		w, err = openNoFollow(name, os.O_WRONLY, 0o644)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", f.rel, err)
	}
	f.f, f.made = w, f.made || made
	f.st = &stream{f: w}
	return nil
}

// makeDirs makes the folder at rel and its parents below dir, each a real
// folder (checked after it is made, never followed through a symlink).
func (p *Placer) makeDirs(rel string) error {
	if rel == "." {
		if p.real["."] {
			return nil
		}
		if err := os.MkdirAll(p.dir, 0o755); err != nil {
			return err
		}
		p.real["."] = true
		return nil
	}
	if p.real[rel] {
		return nil
	}
	path := filepath.Join(p.dir, rel)
	if !p.fresh[rel] {
		if fi, err := os.Lstat(path); err == nil && fi.IsDir() {
			p.real[rel] = true
			return nil
		}
	}
	if err := p.makeDirs(filepath.Dir(rel)); err != nil {
		return err
	}
	err := os.Mkdir(path, 0o755)
	if err == nil {
		// Made here: a real folder, not a symlink.
		p.made = append(p.made, path)
		p.real[rel] = true
		return nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return err
	}
	if fi, err := os.Lstat(path); err != nil || !fi.IsDir() {
		return fmt.Errorf("%s: %w and is not a folder", path, ErrExists)
	}
	p.real[rel] = true
	return nil
}
