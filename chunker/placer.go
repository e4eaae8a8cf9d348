package chunker

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	dag "github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/boxo/verifcid"
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
	root      cid.Cid
	o         ExportOptions

	mu      sync.Mutex
	waiting map[string][]spot // multihash → places its block goes, not yet filled
	// writing holds the files planned and not complete; complete ones
	// are in the journal until Finish names them.
	writing map[*outFile]bool
	journal journal
	// hamt holds the names of each sharded folder (by path below dir)
	// while shards of it wait: its entries come in many nodes.
	hamt map[string]*hamtDir
	// trail lists, while Finish fills what waits, the blocks waited for
	// in the order their places were planned, so it goes depth first.
	trail    []string
	trailing bool
	made     []string // folders this placer made, to remove on Abort
	// fresh are the folders (below dir, "." for dir) that did not exist
	// when planned: nothing of an earlier run or of the user's can be in
	// them, so their files are written without looking first.
	fresh map[string]bool
	// real are the folders known to exist as real folders now.
	real     map[string]bool
	spots    int   // places planned so far, for the budget
	nentries int   // of spots, folder entries
	planned  bool  // Finish runs: progress is told
	declared int64 // file bytes the root declares, for progress
	released bool  // the target is no longer claimed
	total    int64 // file bytes planned so far
	// need is the bytes planned that are not on disk yet (see needSpace);
	// free is what the target had free, -1 if unknown.
	need      int64
	free      int64
	freeKnown bool
	folds     int8  // the target folds case: 0 not asked yet, 1 yes, 2 no
	memo      memo  // the block being placed, decoded
	done      int64 // file bytes in place
	res       ExportResult
	err       error // the first failure: every later call returns it
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

// hamtDir is a sharded folder being planned.
type hamtDir struct {
	names   folder
	pending int // its shard nodes not placed yet
}

// folder holds the entries planned in one folder by name in lower case,
// with the name as given: two names that differ only in case are one
// file on a case-insensitive file system.
type folder map[string]string

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
	if err := checkCID(root); err != nil {
		return nil, fmt.Errorf("export %s: %w", root, err)
	}
	if !claim(filepath.Join(abs, name)) {
		return nil, fmt.Errorf("export %s: %s: %w: another get is writing there", root, filepath.Join(abs, name), ErrExists)
	}
	p := &Placer{dir: abs, name: name, root: root, o: o, waiting: map[string][]spot{}, writing: map[*outFile]bool{},
		hamt: map[string]*hamtDir{}, fresh: map[string]bool{}, real: map[string]bool{}}
	p.journal.dir = abs
	if _, err := os.Lstat(abs); errors.Is(err, fs.ErrNotExist) {
		p.fresh["."] = true
	}
	if root.Type() == cid.Raw {
		if _, err := p.planRawEntry(name, root); err != nil {
			p.release() // no Placer is returned to Abort: the next get may write here
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

// Local places a block that was in the store already: it is not
// returned as placed (the store has it), but leaves adopted from files
// already there are.
func (p *Placer) Local(b blocks.Block) ([]Placed, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return nil, p.err
	}
	placed, err := p.place(b.Cid(), b.RawData(), false)
	if err != nil {
		p.err = err
	}
	return placed, err
}

// Waits reports whether a place waits for the block c.
func (p *Placer) Waits(c cid.Cid) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err == nil && len(p.waiting[string(c.Hash())]) > 0
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
	// A node waited for at many places is decoded once, and the entries
	// and blocks it would add at all of them are counted before any is
	// planned: two small folders can name each other's entries hundreds
	// of millions of times.
	p.memo = memo{}
	defer func() { p.memo = memo{} }()
	if c.Type() == cid.DagProtobuf {
		p.memo.nd, p.memo.fsn, p.memo.err = decodeUnixFS(c, data)
		p.memo.set = true
		if p.memo.err == nil && len(spots) > 1 {
			// A folder's links are entries; a file node's are blocks.
			n := len(spots) * len(p.memo.nd.Links())
			entries := 0
			if t := p.memo.fsn.Type(); t == ft.TDirectory || t == ft.THAMTShard {
				entries = n
			}
			p.nentries += entries // counted again as each is planned
			err := p.budgetFor(n)
			p.nentries -= entries
			if err != nil {
				return nil, err
			}
		}
	}
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
		nd, fsn, err := p.decode(s.c, data)
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
	nd, fsn, err := p.decode(s.c, data)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", rel, err)
	}
	switch t := fsn.Type(); {
	case (t == ft.TFile || t == ft.TRaw || t == ft.TSymlink) && !p.takes(rel):
		return "", nil, nil // its blocks are not waited for, so not fetched
	case t == ft.TFile || t == ft.TRaw:
		f, err := p.newFile(rel, int64(fsn.FileSize()))
		if err != nil {
			return "", nil, err
		}
		return p.part(data, spot{c: s.c, file: f, size: f.size, kind: partSpot})
	case t == ft.TSymlink:
		target := string(fsn.Data())
		if len(target) > maxPathLen {
			return "", nil, fmt.Errorf("%s: %w: a symlink to a path longer than %d bytes", elide(rel), ErrTooLarge, maxPathLen)
		}
		if !p.sameLink(rel, target) {
			if err := p.checkFree(rel, false); err != nil {
				return "", nil, err
			}
		}
		return "", nil, p.journal.add(record{kind: linkRecord, rel: rel, target: target})
	case t == ft.TDirectory:
		if err := p.planDir(rel); err != nil {
			return "", nil, err
		}
		if len(nd.Links()) == 0 && p.o.Only == nil { // a part of a share makes no empty folders
			return "", nil, p.journal.add(record{kind: dirRecord, rel: rel})
		}
		var out []Placed
		names := folder{}
		for _, l := range nd.Links() {
			placed, err := p.planEntry(rel, l.Name, l.Cid, names)
			out = append(out, placed...)
			if err != nil {
				return "", out, err
			}
		}
		return "", out, nil
	case t == ft.THAMTShard:
		if err := p.planDir(rel); err != nil {
			return "", nil, err
		}
		if p.hamt[rel] == nil {
			p.hamt[rel] = &hamtDir{names: folder{}}
		}
		p.hamt[rel].pending++
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
	hd := p.hamt[rel]
	if hd == nil { // a shard the folder's node did not name
		return nil, fmt.Errorf("%s: a HAMT shard outside its folder", rel)
	}
	var out []Placed
	for _, l := range nd.Links() {
		switch {
		case len(l.Name) < pad:
			return out, fmt.Errorf("%s: %w %q: not a HAMT link name", rel, ErrUnsafeName, l.Name)
		case len(l.Name) == pad:
			if err := p.budget(false); err != nil {
				return out, err
			}
			if err := checkCID(l.Cid); err != nil {
				return out, fmt.Errorf("%s: %w", rel, err)
			}
			hd.pending++
			p.wait(spot{c: l.Cid, rel: rel, kind: shardSpot})
		default:
			placed, err := p.planEntry(rel, l.Name[pad:], l.Cid, hd.names)
			out = append(out, placed...)
			if err != nil {
				return out, err
			}
		}
	}
	if hd.pending--; hd.pending == 0 {
		delete(p.hamt, rel)
		if len(hd.names) == 0 && p.o.Only == nil { // nothing in it will make it
			return out, p.journal.add(record{kind: dirRecord, rel: rel})
		}
	}
	return out, nil
}

// maxDirDepth bounds how deep folders may nest: far past what people
// make (a deep node_modules reaches a few dozen), and shallow enough that
// a get refuses a chain of folders within seconds, though it must fetch
// each level before it sees the next.
const maxDirDepth = 256

// maxPathLen is the longest path Linux takes (PATH_MAX less its NUL).
const maxPathLen = 4095

// elide shortens a path too long to read in one line of an error.
func elide(rel string) string {
	const keep = 60
	if len(rel) <= 3*keep {
		return rel
	}
	head, tail := rel[:keep], rel[len(rel)-keep:]
	return fmt.Sprintf("%s…%s (%d bytes)", strings.ToValidUTF8(head, ""), strings.ToValidUTF8(tail, ""), len(rel))
}

// planEntry records that the entry name of the folder at rel is c; names
// holds the folder's entries planned so far. A name twice in a folder,
// in one node or in two shards of it, is the same path planned twice.
func (p *Placer) planEntry(rel, name string, c cid.Cid, names folder) ([]Placed, error) {
	if err := CheckName(name); err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	if isPartName(name) {
		return nil, fmt.Errorf("%s: %w %q: the name pollen gives a file it is writing", rel, ErrUnsafeName, name)
	}
	if err := checkCID(c); err != nil {
		return nil, fmt.Errorf("%s: %q: %w", rel, name, err)
	}
	if err := p.budget(true); err != nil {
		return nil, err
	}
	if strings.Count(rel, string(filepath.Separator)) >= maxDirDepth {
		return nil, fmt.Errorf("%s: %w: folders nested more than %d deep", elide(rel), ErrTooLarge, maxDirDepth)
	}
	child := filepath.Join(rel, name)
	if len(p.dir)+1+len(child) > maxPathLen {
		return nil, fmt.Errorf("%s: %w: a path longer than %d bytes", elide(rel), ErrTooLarge, maxPathLen)
	}
	folded := strings.ToLower(name)
	if twin, ok := names[folded]; ok {
		if twin == name {
			return nil, fmt.Errorf("%s: %w %q: appears twice", rel, ErrUnsafeName, name)
		}
		if p.caseInsensitive() {
			return nil, fmt.Errorf("%s: %w %q and %q: one file on %s, which ignores case", rel, ErrUnsafeName, filepath.Join(rel, twin), child, p.dir)
		}
	}
	names[folded] = name
	if c.Type() == cid.Raw {
		if !p.takes(child) {
			return nil, nil
		}
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

// budget counts one more place (an entry, when entry is set), and fails
// past the export's budget.
func (p *Placer) budget(entry bool) error {
	p.spots++
	if entry {
		p.nentries++
	}
	return p.budgetFor(0)
}

// budgetFor fails if n more places would pass the export's budget: the
// files and folders planned, and the blocks, which may be
// blocksPerEntry times as many.
func (p *Placer) budgetFor(n int) error {
	max := p.o.MaxEntries
	if max <= 0 {
		max = DefaultMaxEntries
	}
	if p.nentries > max {
		return fmt.Errorf("%w: more than %d files and folders (raise it with --max-entries)", ErrTooLarge, max)
	}
	if p.spots+n > max*blocksPerEntry {
		return fmt.Errorf("%w: more than %d blocks (raise it with --max-entries)", ErrTooLarge, max*blocksPerEntry)
	}
	return nil
}

// blocksPerEntry is the blocks an export may plan per entry of its
// budget: a budget of 1 Mi entries allows 16 Mi blocks, a 4 TiB file of
// Kubo's 256 KiB blocks.
const blocksPerEntry = 16

// memo is the block place is filling, decoded once.
type memo struct {
	set bool
	nd  *dag.ProtoNode
	fsn *ft.FSNode
	err error
}

// decode decodes a dag-pb UnixFS node: the one place decoded, when a
// spot reads it as dag-pb too.
func (p *Placer) decode(c cid.Cid, data []byte) (*dag.ProtoNode, *ft.FSNode, error) {
	if p.memo.set && c.Type() == cid.DagProtobuf {
		return p.memo.nd, p.memo.fsn, p.memo.err
	}
	return decodeUnixFS(c, data)
}

func (p *Placer) wait(s spot) {
	h := string(s.c.Hash())
	p.waiting[h] = append(p.waiting[h], s)
	if p.trailing {
		p.trail = append(p.trail, h)
	}
}

// planDir checks that the folder at rel can be made (or is a real folder
// already) and notes it; it is made when something is written in it.
func (p *Placer) planDir(rel string) error {
	if p.fresh[filepath.Dir(rel)] {
		p.fresh[rel] = true // in a folder that was not there: not there either
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

// checkCID refuses a CID boxo would not fetch: a hash function it does
// not trust, a digest too short to be safe, or an identity CID over 128
// bytes (its bytes are in the CID itself, so a small DAG could name
// megabytes through one).
func checkCID(c cid.Cid) error {
	if err := verifcid.ValidateCid(verifcid.DefaultAllowlist, c); err != nil {
		return fmt.Errorf("%w: %v", ErrUnsafeCID, err)
	}
	return nil
}

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
