package chunker

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"

	ft "github.com/ipfs/boxo/ipld/unixfs"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
)

// Finishing an export: what no block brought is read from the store,
// every file gets its own name, symlinks and empty folders are made.

// Source is where Finish reads the blocks no Put brought: the store.
type Source interface {
	Get(context.Context, cid.Cid) (blocks.Block, error)
}

// Finish fills every place still waiting from src (blocks that were
// stored already, or arrived before the DAG said where else they go),
// then moves every file to its own name and makes symlinks and empty
// folders. It goes depth first (see fillFrom); no file has its name
// until every file is complete.
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
	p.planned = true
	if err := p.fillFrom(ctx, src); err != nil {
		return err
	}
	for f := range p.writing {
		return fmt.Errorf("%s: incomplete", f.rel)
	}
	var batch []Moved
	err := p.journal.each(func(r record) error {
		switch r.kind {
		case dirRecord:
			return p.makeDirs(r.rel)
		case linkRecord:
			return p.symlink(r.rel, r.target)
		}
		m, err := p.rename(r)
		if err != nil {
			return err
		}
		if m.To != "" {
			batch = append(batch, m)
		}
		if len(batch) >= movedBatch {
			err = p.moved(batch)
			batch = nil
		}
		return err
	})
	// Files linked to their names are told, whatever failed after them:
	// the store must point at a name that stays.
	if merr := p.moved(batch); err == nil {
		err = merr
	}
	if err != nil {
		return err
	}
	p.journal.close()
	p.res.Path = filepath.Join(p.dir, p.name)
	if p.o.Progress != nil && p.total > 0 { // all of it in place, even if none was written now
		p.o.Progress.Progress(p.total, p.total)
	}
	return nil
}

// fillFrom fills every place still waiting from src, depth first: what a
// node plans is filled before the places planned before it, so what
// waits is bounded by the DAG's depth and its folders' width.
func (p *Placer) fillFrom(ctx context.Context, src Source) error {
	if p.o.Progress != nil && p.root.Defined() {
		if b, err := src.Get(ctx, p.root); err == nil {
			p.declared = declaredSize(b)
		}
	}
	p.trail = p.waitingNow()
	p.trailing = true
	defer func() { p.trail, p.trailing = nil, false }()
	for len(p.trail) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		h := p.trail[len(p.trail)-1]
		p.trail = p.trail[:len(p.trail)-1]
		spots := p.waiting[h]
		if len(spots) == 0 {
			continue
		}
		c := spots[0].c
		b, err := src.Get(ctx, c)
		if err != nil {
			return fmt.Errorf("%s: %w", p.where(c), err)
		}
		mark := len(p.trail)
		if _, err := p.place(c, b.RawData(), false); err != nil {
			return err
		}
		slices.Reverse(p.trail[mark:]) // the first planned on top
	}
	return nil
}

// declaredSize is the bytes a root says its DAG holds: a file node's
// size, else the sizes its links declare (a little more than the files:
// they count the nodes too).
func declaredSize(b blocks.Block) int64 {
	if b.Cid().Type() != cid.DagProtobuf {
		return int64(len(b.RawData()))
	}
	nd, fsn, err := decodeUnixFS(b.Cid(), b.RawData())
	if err != nil {
		return 0
	}
	if t := fsn.Type(); t == ft.TFile || t == ft.TRaw {
		return int64(fsn.FileSize())
	}
	var n int64
	for _, l := range nd.Links() {
		n += int64(l.Size)
	}
	return n
}

// waitingNow lists the blocks waited for, the first place last, in the
// order of their places.
func (p *Placer) waitingNow() []string {
	type item struct {
		h   string
		key string
		off int64
	}
	var items []item
	for h, spots := range p.waiting {
		s := spots[0]
		key := s.rel
		if s.file != nil {
			key = s.file.rel
		}
		items = append(items, item{h, key, s.off})
	}
	sort.Slice(items, func(i, j int) bool {
		if items[i].key != items[j].key {
			return items[i].key > items[j].key
		}
		return items[i].off > items[j].off
	})
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.h
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

// symlink makes the symlink at rel unless it is there already.
func (p *Placer) symlink(rel, target string) error {
	p.res.Symlinks++
	if p.sameLink(rel, target) {
		return nil
	}
	if err := p.makeDirs(filepath.Dir(rel)); err != nil {
		return err
	}
	if err := p.checkFree(rel, false); err != nil {
		return err
	}
	return os.Symlink(target, filepath.Join(p.dir, rel))
}

// movedBatch is how many files are given to Renamed at a time.
const movedBatch = 1024

// rename gives a complete file its own name, unless the file there
// already held its bytes. Without Force it is a hard link, which refuses
// to replace anything, like the rename it stands for, and leaves the
// temporary name in place until moved has pointed the store at the new
// one: whatever the store names stays there, whenever the process dies.
func (p *Placer) rename(f record) (Moved, error) {
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
	for f := range p.writing {
		if f.f != nil {
			f.st.wait()
			f.f.Close()
			f.f, f.st = nil, nil
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
		p.journal.each(func(r record) error {
			if r.kind == fileRecord && r.made {
				os.Remove(p.partName(r.rel))
			}
			return nil
		})
	}
	p.journal.close()
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
