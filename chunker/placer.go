package chunker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"

	dag "github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// A Placer writes a UnixFS DAG out to dir/name as its blocks come, in any
// order, the way a BitTorrent client writes pieces: each block is placed
// wherever the DAG says its bytes go, at once, and as many times as it
// occurs (a zero run, the same file twice). It learns the places from the
// DAG's own nodes, so a node must be given before its children: a
// fetch that walks the DAG from the root gives them in that order.
//
// Every file is written under a temporary name beside its own
// (".NAME.pollen-part") and renamed by Finish once every file is
// complete, so a refused or interrupted get never leaves a file that looks
// whole. A temporary file left by an interrupted get is read back: the
// leaves it already holds are checked against their CIDs and kept
// (adopted), not fetched again. An existing file is never written over
// without Force; one that already holds exactly the DAG's bytes is kept.
// Names are checked with [CheckName]; nothing is written through a
// symlink.
//
// A Placer is safe for concurrent use.
type Placer struct {
	dir, name string
	o         ExportOptions

	mu      sync.Mutex
	waiting map[string][]spot // multihash → places its block goes, not yet filled
	files   []*outFile
	dirs    []string // folders to make, below dir, parents first
	links   []symlink
	entries map[string]bool // every folder entry planned, below dir
	made    []string        // folders this placer made, to remove on Abort
	// fresh are the folders (below dir, "." for dir) that did not exist
	// when planned: nothing of an earlier run or of the user's can be in
	// them, so their files are written without looking first.
	fresh map[string]bool
	// real are the folders known to exist as real folders now.
	real     map[string]bool
	spots    int   // places planned so far, for the budget
	planned  bool  // every node is placed: total is known, progress is told
	released bool  // the target is no longer claimed
	total    int64 // file bytes planned so far
	done     int64 // file bytes in place
	res      ExportResult
	err      error // the first failure: every later call returns it
}

// Placed says a leaf's bytes are now at Off in the file at Path (absolute),
// so a store can point there instead of keeping a copy.
type Placed struct {
	Cid  cid.Cid
	Path string
	Off  int64
	Size int
}

// spot is one place a block goes.
type spot struct {
	c     cid.Cid  // as its parent links to it (the codec says how to read it)
	rel   string   // the entry's path below dir (entry, shard)
	file  *outFile // the file it is part of (part)
	off   int64    // where in file
	size  int64    // the bytes its parent declares for it (part)
	kind  spotKind
	depth int // nodes above it inside its file
}

type spotKind uint8

const (
	entrySpot spotKind = iota // a folder entry (or the root): folder, file or symlink
	shardSpot                 // a HAMT shard node of the folder at rel
	partSpot                  // a node or leaf inside a file
)

type symlink struct{ rel, target string }

// outFile is one file being written.
type outFile struct {
	rel     string
	size    int64
	pending int      // spots of it not filled yet, its own root's included
	leaves  []Placed // its raw leaves and where they are in it, for Renamed
	f       *os.File // its temporary file, open for writing; nil until written
	st      stream   // f's writes, pushed to disk as they fill it
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

// NewPlacer prepares to write the DAG under root to dir/name; nothing is
// written until blocks come.
func NewPlacer(root cid.Cid, dir, name string, o ExportOptions) (*Placer, error) {
	if err := CheckName(name); err != nil {
		return nil, fmt.Errorf("export %s: %w", root, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", root, err)
	}
	if !claim(filepath.Join(abs, name)) {
		return nil, fmt.Errorf("export %s: %s: %w: another get is writing there", root, filepath.Join(abs, name), ErrExists)
	}
	p := &Placer{dir: abs, name: name, o: o, waiting: map[string][]spot{}, fresh: map[string]bool{}, real: map[string]bool{}}
	if _, err := os.Lstat(abs); errors.Is(err, fs.ErrNotExist) {
		p.fresh["."] = true
	}
	if root.Type() == cid.Raw {
		if _, err := p.planRawEntry(name, root); err != nil {
			return nil, fmt.Errorf("export %s: %w", root, err)
		}
	} else {
		p.wait(spot{c: root, rel: name, kind: entrySpot})
	}
	return p, nil
}

// Put places blocks that arrived (checked against their CIDs) wherever
// they go, and returns the leaves it wrote, each once, where it first
// went, with the leaves it adopted from files already there. A block no
// place waits for is left alone.
func (p *Placer) Put(bl []blocks.Block) ([]Placed, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Placed
	for _, b := range bl {
		if p.err != nil {
			return out, p.err
		}
		placed, err := p.place(b.Cid(), b.RawData(), true)
		out = append(out, placed...)
		if err != nil {
			p.err = err
			return out, err
		}
	}
	return out, nil
}

// Waiting reports whether a place waits for the block c.
func (p *Placer) Waiting(c cid.Cid) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.waiting[string(c.Hash())]) > 0
}

// place fills every spot waiting for the block with multihash c.Hash().
// Called with mu held.
func (p *Placer) place(c cid.Cid, data []byte, fresh bool) ([]Placed, error) {
	h := string(c.Hash())
	spots := p.waiting[h]
	if len(spots) == 0 {
		return nil, nil
	}
	delete(p.waiting, h)
	var out []Placed
	first := fresh
	for _, s := range spots {
		wrote, placed, err := p.fill(data, s)
		out = append(out, placed...)
		if err != nil {
			return out, err
		}
		if wrote != "" && first && s.c.Type() == cid.Raw {
			out = append(out, Placed{Cid: s.c, Path: wrote, Off: s.off, Size: len(data)})
			first = false
		}
	}
	return out, nil
}

// fill puts a block at one spot; for a leaf it returns the absolute path
// of the file it went to, and what a node's planning adopted. Called with
// mu held.
func (p *Placer) fill(data []byte, s spot) (string, []Placed, error) {
	switch s.kind {
	case entrySpot:
		return p.entry(data, s)
	case shardSpot:
		nd, fsn, err := decodeUnixFS(s.c, data)
		if err != nil {
			return "", nil, fmt.Errorf("%s: %w", s.rel, err)
		}
		if fsn.Type() != ft.THAMTShard {
			return "", nil, fmt.Errorf("%s: a %s inside a sharded folder", s.rel, fsn.Type())
		}
		placed, err := p.shard(nd, fsn, s.rel)
		return "", placed, err
	default:
		return p.part(data, s)
	}
}

// entry places the node of a folder entry (a dag-pb one: raw entries are
// planned as files by planRawEntry).
func (p *Placer) entry(data []byte, s spot) (string, []Placed, error) {
	rel := s.rel
	nd, fsn, err := decodeUnixFS(s.c, data)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", rel, err)
	}
	switch fsn.Type() {
	case ft.TFile, ft.TRaw:
		f, err := p.newFile(rel, int64(fsn.FileSize()))
		if err != nil {
			return "", nil, err
		}
		return p.part(data, spot{c: s.c, file: f, size: f.size, kind: partSpot})
	case ft.TSymlink:
		target := string(fsn.Data())
		if !p.sameLink(rel, target) {
			if err := p.checkFree(rel, false); err != nil {
				return "", nil, err
			}
		}
		p.links = append(p.links, symlink{rel, target})
		return "", nil, nil
	case ft.TDirectory:
		if err := p.planDir(rel); err != nil {
			return "", nil, err
		}
		seen := make(map[string]bool, len(nd.Links()))
		var out []Placed
		for _, l := range nd.Links() {
			placed, err := p.planEntry(rel, l.Name, l.Cid, seen)
			out = append(out, placed...)
			if err != nil {
				return "", out, err
			}
		}
		return "", out, nil
	case ft.THAMTShard:
		if err := p.planDir(rel); err != nil {
			return "", nil, err
		}
		placed, err := p.shard(nd, fsn, rel)
		return "", placed, err
	default:
		return "", nil, fmt.Errorf("%s: unsupported UnixFS type %s", rel, fsn.Type())
	}
}

// shard plans the entries and sub-shards of one HAMT node of the folder
// at rel. Link names start with the child's index in hex, padded to the
// width of the largest index; a name of exactly that width is a sub-shard.
func (p *Placer) shard(nd *dag.ProtoNode, fsn *ft.FSNode, rel string) ([]Placed, error) {
	fanout := fsn.Fanout()
	if fanout < 2 || fanout > 1<<16 || fanout&(fanout-1) != 0 {
		return nil, fmt.Errorf("%s: HAMT fanout %d is not a power of two up to 65536", rel, fanout)
	}
	pad := len(fmt.Sprintf("%X", fanout-1))
	// A name twice in one shard node is caught here; in two shard nodes,
	// where planEntry finds the first one waiting or planned.
	seen := map[string]bool{}
	var out []Placed
	for _, l := range nd.Links() {
		switch {
		case len(l.Name) < pad:
			return out, fmt.Errorf("%s: %w %q: not a HAMT link name", rel, ErrUnsafeName, l.Name)
		case len(l.Name) == pad:
			if err := p.budget(); err != nil {
				return out, err
			}
			p.wait(spot{c: l.Cid, rel: rel, kind: shardSpot})
		default:
			placed, err := p.planEntry(rel, l.Name[pad:], l.Cid, seen)
			out = append(out, placed...)
			if err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// maxDirDepth bounds how deep folders may nest: far past what people
// make, and short of what a path can hold.
const maxDirDepth = 1024

// planEntry records that the entry name of the folder at rel is c.
func (p *Placer) planEntry(rel, name string, c cid.Cid, seen map[string]bool) ([]Placed, error) {
	if err := CheckName(name); err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	if isPartName(name) {
		return nil, fmt.Errorf("%s: %w %q: the name pollen gives a file it is writing", rel, ErrUnsafeName, name)
	}
	if err := p.budget(); err != nil {
		return nil, err
	}
	if strings.Count(rel, string(filepath.Separator)) >= maxDirDepth {
		return nil, fmt.Errorf("%s: %w: folders nested more than %d deep", rel, ErrTooLarge, maxDirDepth)
	}
	child := filepath.Join(rel, name)
	if seen[name] || p.entries[child] {
		return nil, fmt.Errorf("%s: %w %q: appears twice", rel, ErrUnsafeName, name)
	}
	seen[name] = true
	if p.entries == nil {
		p.entries = map[string]bool{}
	}
	p.entries[child] = true
	if c.Type() == cid.Raw {
		return p.planRawEntry(child, c)
	}
	p.wait(spot{c: c, rel: child, kind: entrySpot})
	return nil, nil
}

// planRawEntry plans a file that is one raw leaf. A file already there,
// or an earlier run's temporary file, that holds it is adopted at once,
// so it is not fetched.
func (p *Placer) planRawEntry(rel string, c cid.Cid) ([]Placed, error) {
	f, err := p.newFile(rel, -1)
	if err != nil {
		return nil, err
	}
	s := spot{c: c, file: f, kind: partSpot, size: -1}
	f.leaves = append(f.leaves, Placed{Cid: c})
	if f.src != nil {
		if fi, err := f.src.Stat(); err == nil && fi.Size() <= maxLeaf {
			s.size = fi.Size()
			if pl, ok := p.adopt(f, s); ok {
				f.size = s.size
				p.total += f.size
				return []Placed{pl}, p.filled(f)
			}
		}
		if f.keep && !p.o.Force {
			return nil, p.existsErr(f)
		}
		s.size = -1
	}
	p.wait(s)
	return nil, nil
}

// budget counts one more place, and fails past the export's budget.
func (p *Placer) budget() error {
	p.spots++
	max := p.o.MaxEntries
	if max <= 0 {
		max = DefaultMaxEntries
	}
	if p.spots > max {
		return fmt.Errorf("%w: more than %d entries and blocks", ErrTooLarge, max)
	}
	return nil
}

func (p *Placer) wait(s spot) {
	h := string(s.c.Hash())
	p.waiting[h] = append(p.waiting[h], s)
}

// planDir checks that the folder at rel can be made (or is a real folder
// already) and notes it; it is made when something is written in it.
func (p *Placer) planDir(rel string) error {
	if p.fresh[filepath.Dir(rel)] {
		p.fresh[rel] = true // in a folder that was not there: not there either
		p.dirs = append(p.dirs, rel)
		p.res.Dirs++
		return nil
	}
	path := filepath.Join(p.dir, rel)
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		p.fresh[rel] = true
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s: %w and is not a folder (pollen never writes through a symlink)", path, ErrExists)
	}
	p.dirs = append(p.dirs, rel)
	p.res.Dirs++
	return nil
}

// checkFree refuses a destination that exists and may not be replaced.
// A regular file passes when mayBeFile (the caller decides).
func (p *Placer) checkFree(rel string, mayBeFile bool) error {
	path := filepath.Join(p.dir, rel)
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%s: %w (a symlink; pollen never writes through one)", path, ErrExists)
	case fi.Mode().IsRegular() && mayBeFile:
		return nil
	default:
		return fmt.Errorf("%s: %w", path, ErrExists)
	}
}

func (p *Placer) existsErr(f *outFile) error {
	return fmt.Errorf("%s: %w with other content (use --force to replace it)", filepath.Join(p.dir, f.rel), ErrExists)
}

func (p *Placer) sameLink(rel, target string) bool {
	t, err := os.Readlink(filepath.Join(p.dir, rel))
	return err == nil && t == target
}

// newFile plans the file at rel (size -1: a single leaf, not known yet).
// A file already there is kept if it holds the DAG's bytes (checked as
// its leaves are planned), replaced with Force, refused otherwise; an
// earlier run's temporary file is read for the leaves it holds.
func (p *Placer) newFile(rel string, size int64) (*outFile, error) {
	f := &outFile{rel: rel, size: size, pending: 1}
	if p.fresh[filepath.Dir(rel)] {
		p.files = append(p.files, f)
		p.total += max(size, 0)
		return f, nil
	}
	if err := p.checkFree(rel, true); err != nil {
		return nil, err
	}
	path := filepath.Join(p.dir, rel)
	if fi, err := os.Lstat(path); err == nil && !p.o.Force {
		if size >= 0 && fi.Size() != size {
			return nil, p.existsErr(f)
		}
		src, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
		if err != nil {
			return nil, err
		}
		f.src, f.keep = src, true
	} else if src, err := os.OpenFile(p.partName(rel), os.O_RDONLY|syscall.O_NOFOLLOW, 0); err == nil {
		if fi, err := src.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
			f.src = src
		} else {
			src.Close()
		}
	}
	p.files = append(p.files, f)
	if size > 0 {
		p.total += size
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
	nd, fsn, err := decodeUnixFS(s.c, data)
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
		if err := p.budget(); err != nil {
			return "", adopted, err
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
		return "", fmt.Errorf("%s: %w", f.rel, err)
	}
	f.st.wrote(off, off+int64(len(data)))
	p.progress(int64(len(data)))
	return f.f.Name(), p.filled(f)
}

func (p *Placer) progress(n int64) {
	p.done += n
	if p.o.Progress != nil && p.planned {
		p.o.Progress.Progress(p.done, max(p.total, p.done))
	}
}

// filled notes one spot of f filled; the last one completes it: its
// temporary file is cut to length and closed. Called with mu held.
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
	if f.keep {
		return nil
	}
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
	f.f = nil
	if err != nil {
		return fmt.Errorf("%s: %w", f.rel, err)
	}
	return nil
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
	// O_NOFOLLOW: a symlink planted at the temporary name is never written
	// through. Not truncated: a store may point at leaves in it. O_EXCL
	// says whether this run made it.
	w, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o644)
	made := err == nil
	if errors.Is(err, fs.ErrExist) {
		w, err = os.OpenFile(name, os.O_WRONLY|syscall.O_NOFOLLOW, 0o644)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", f.rel, err)
	}
	f.f, f.made = w, f.made || made
	f.st = stream{f: w}
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

// Source is where Finish reads the blocks no Put brought: the store.
type Source interface {
	Get(context.Context, cid.Cid) (blocks.Block, error)
}

// Finish fills every place still waiting from src (blocks that were
// stored already, or arrived before the DAG said where else they go),
// then moves every file to its own name and makes symlinks and empty
// folders. Nodes are read before leaves, so a DAG that Finish writes
// alone (an export from the store) is checked whole before anything is
// written.
func (p *Placer) Finish(ctx context.Context, src Source) (ExportResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	defer p.release()
	if p.err != nil {
		return p.res, p.err
	}
	if err := p.finish(ctx, src); err != nil {
		p.err = err
		return p.res, err
	}
	return p.res, nil
}

func (p *Placer) finish(ctx context.Context, src Source) error {
	for _, leaves := range []bool{false, true} {
		if leaves {
			p.planned = true
		}
		for {
			batch := p.waitingOf(leaves)
			if len(batch) == 0 {
				break
			}
			for _, c := range batch {
				if err := ctx.Err(); err != nil {
					return err
				}
				if len(p.waiting[string(c.Hash())]) == 0 {
					continue
				}
				b, err := src.Get(ctx, c)
				if err != nil {
					return fmt.Errorf("%s: %w", p.where(c), err)
				}
				if _, err := p.place(c, b.RawData(), false); err != nil {
					return err
				}
			}
		}
	}
	for _, f := range p.files {
		if !f.done {
			return fmt.Errorf("%s: incomplete", f.rel)
		}
	}
	for _, rel := range p.dirs {
		if err := p.makeDirs(rel); err != nil {
			return err
		}
	}
	var batch []Moved
	for _, f := range p.files {
		m, err := p.rename(f)
		if err != nil {
			p.moved(batch)
			return err
		}
		if m.To != "" {
			batch = append(batch, m)
		}
		if len(batch) >= movedBatch {
			if err := p.moved(batch); err != nil {
				return err
			}
			batch = nil
		}
	}
	if err := p.moved(batch); err != nil {
		return err
	}
	if len(p.links) > 0 {
		if err := p.makeDirs("."); err != nil {
			return err
		}
	}
	for _, l := range p.links {
		if !p.sameLink(l.rel, l.target) {
			if err := p.checkFree(l.rel, false); err != nil {
				return err
			}
			if err := os.Symlink(l.target, filepath.Join(p.dir, l.rel)); err != nil {
				return err
			}
		}
		p.res.Symlinks++
	}
	p.res.Path = filepath.Join(p.dir, p.name)
	if p.o.Progress != nil && p.total > 0 { // all of it in place, even if none was written now
		p.o.Progress.Progress(p.total, p.total)
	}
	return nil
}

// waitingOf lists the blocks waited for that are leaves (or, !leaves,
// nodes), in the order of their places.
func (p *Placer) waitingOf(leaves bool) []cid.Cid {
	type item struct {
		c   cid.Cid
		key string
		off int64
	}
	var items []item
	for _, spots := range p.waiting {
		s := spots[0]
		if (s.c.Type() == cid.Raw) != leaves {
			continue
		}
		key := s.rel
		if s.file != nil {
			key = s.file.rel
		}
		items = append(items, item{s.c, key, s.off})
	}
	sort.Slice(items, func(i, j int) bool {
		if items[i].key != items[j].key {
			return items[i].key < items[j].key
		}
		return items[i].off < items[j].off
	})
	out := make([]cid.Cid, len(items))
	for i, it := range items {
		out[i] = it.c
	}
	return out
}

// where names the first place c goes, for errors.
func (p *Placer) where(c cid.Cid) string {
	if spots := p.waiting[string(c.Hash())]; len(spots) > 0 && spots[0].file != nil {
		return spots[0].file.rel
	} else if len(spots) > 0 {
		return spots[0].rel
	}
	return c.String()
}

// movedBatch is how many files are given to Renamed at a time.
const movedBatch = 1024

// rename gives a complete file its own name, unless the file there
// already held its bytes. Without Force it is a hard link, which refuses
// to replace anything, like the rename it stands for, and leaves the
// temporary name in place until moved has pointed the store at the new
// one: whatever the store names stays there, whenever the process dies.
func (p *Placer) rename(f *outFile) (Moved, error) {
	p.res.Files++
	p.res.Size += f.size
	if f.keep {
		return Moved{}, nil
	}
	from, to := p.partName(f.rel), filepath.Join(p.dir, f.rel)
	m := Moved{From: from, To: to, Leaves: f.leaves}
	for i := range m.Leaves {
		m.Leaves[i].Path = to
		if m.Leaves[i].Size == 0 && len(m.Leaves) == 1 { // a file of one leaf
			m.Leaves[i].Size = int(f.size)
		}
	}
	if p.o.Force {
		if err := p.checkFree(f.rel, true); err != nil {
			return Moved{}, err
		}
		return m, os.Rename(from, to)
	}
	err := os.Link(from, to)
	switch {
	case err == nil:
		m.linked = true
		return m, nil
	case errors.Is(err, fs.ErrExist):
		return Moved{}, fmt.Errorf("%s: %w (use --force to replace it)", to, ErrExists)
	}
	// A file system without hard links: a rename that refuses to replace.
	if err := renameNoReplace(from, to); errors.Is(err, fs.ErrExist) {
		return Moved{}, fmt.Errorf("%s: %w (use --force to replace it)", to, ErrExists)
	} else if err != nil {
		return Moved{}, err
	}
	return m, nil
}

// moved tells Renamed of files given their names, then removes the
// temporary names they were linked from.
func (p *Placer) moved(batch []Moved) error {
	if len(batch) == 0 {
		return nil
	}
	if p.o.Renamed != nil {
		if err := p.o.Renamed(batch); err != nil {
			return err
		}
	}
	for _, m := range batch {
		if m.linked {
			if err := os.Remove(m.From); err != nil {
				return err
			}
		}
	}
	return nil
}

// Abort closes what is open. With clean (the get was refused, not
// interrupted), it also removes the temporary files this run made and
// the folders it made that are empty; otherwise they stay, for the next
// run to adopt what they hold.
func (p *Placer) Abort(clean bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	defer p.release()
	for _, f := range p.files {
		if f.f != nil {
			f.st.wait()
			f.f.Close()
			f.f = nil
		}
		if f.src != nil {
			f.src.Close()
			f.src = nil
		}
		if clean && f.made {
			os.Remove(p.partName(f.rel))
		}
	}
	if clean {
		for i := len(p.made) - 1; i >= 0; i-- {
			os.Remove(p.made[i]) // only if empty
		}
	}
	if p.err == nil {
		p.err = errAborted
	}
}

var errAborted = errors.New("export aborted")

// decodeUnixFS decodes a dag-pb UnixFS node.
func decodeUnixFS(c cid.Cid, data []byte) (*dag.ProtoNode, *ft.FSNode, error) {
	if c.Type() != cid.DagProtobuf {
		return nil, nil, fmt.Errorf("%s is not UnixFS", c)
	}
	nd, err := dag.DecodeProtobuf(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", c, err)
	}
	fsn, err := ft.FSNodeFromBytes(nd.Data())
	if err != nil {
		return nil, nil, fmt.Errorf("%s: not UnixFS: %w", c, err)
	}
	return nd, fsn, nil
}

// Targets being written by a placer in this process: two gets writing
// the same files at once would write into each other's temporary files.
var (
	claimsMu sync.Mutex
	claims   = map[string]bool{}
)

func claim(target string) bool {
	claimsMu.Lock()
	defer claimsMu.Unlock()
	if claims[target] {
		return false
	}
	claims[target] = true
	return true
}

// release gives up the placer's target, once. Called with mu held.
func (p *Placer) release() {
	if p.released {
		return
	}
	p.released = true
	claimsMu.Lock()
	delete(claims, filepath.Join(p.dir, p.name))
	claimsMu.Unlock()
}
