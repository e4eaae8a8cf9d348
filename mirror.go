package pollen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen/chunker"
)

// A mirror is made equal to a version file by file. The files that
// changed are written as a get writes them (chunker's placer: beside,
// under a temporary name, then renamed over the old one, so a reader
// sees the old file or the new, never a mix), and the store points into
// them instead of keeping a second copy. The manifest
// (REPO/live/NAME.mirror.json) holds what the mirror last wrote, each
// file's CID, size and modification time: a file that no longer
// matches it was changed here, and one it does not name was added here.
// Those are the user's: never replaced nor deleted, reported as
// conflicts. Nothing is written or deleted through a symlink or a
// folder the user replaced: a version's names stay inside the mirror.

// wrote is one file or folder the mirror wrote.
type wrote struct {
	CID   string    `json:"cid,omitempty"` // "" for a folder
	Size  int64     `json:"size"`
	MTime time.Time `json:"mtime"`
}

type manifest map[string]wrote // by slash path inside the mirror

func (n *Node) manifestPath(name peer.ID) string {
	return filepath.Join(n.dir, liveDir, name.String()+".mirror.json")
}

// same reports whether the file at p is as the mirror wrote it.
func (w wrote) same(fi fs.FileInfo) bool {
	if w.CID == "" {
		return fi.IsDir()
	}
	return !fi.IsDir() && fi.Size() == w.Size && fi.ModTime().Equal(w.MTime)
}

// mirrorPlan is what making the mirror dir equal to a version takes,
// planned from the version's listing before any file's leaves come.
type mirrorPlan struct {
	dir       string
	old, now  manifest
	cids      map[string]string // the version's CID of each file to write
	inVersion map[string]bool
	write     []string // files and symlinks to write now
	// later are files whose place holds a folder of an older version:
	// written once the deletions have emptied it.
	later     []string
	conflicts []string
	folders   map[string]bool // parent folders known to be real folders
}

// planMirror reads the version's listing (its folders are here), makes
// its new folders in dir and says which files to write.
func (n *Node) planMirror(ctx context.Context, entries []TreeEntry, dir string, name peer.ID) (*mirrorPlan, error) {
	pl := &mirrorPlan{dir: dir, old: manifest{}, now: manifest{}, cids: map[string]string{},
		inVersion: map[string]bool{}, folders: map[string]bool{".": true}}
	if b, err := os.ReadFile(n.manifestPath(name)); err == nil {
		json.Unmarshal(b, &pl.old) // a lost manifest: every file here is the user's
	}
	for _, e := range entries {
		if e.Path == "" {
			continue
		}
		pl.inVersion[e.Path] = true
		if !pl.realParents(e.Path) {
			pl.conflicts = append(pl.conflicts, e.Path) // the user put a file or a symlink above it
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(e.Path))
		fi, err := os.Lstat(p)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return pl, fmt.Errorf("mirror %s: %w", dir, err)
		}
		was, ours := pl.old[e.Path]
		mine := err == nil && ours && was.same(fi) // as the mirror left it
		switch {
		case e.Kind == "dir":
			if err == nil && fi.IsDir() {
				pl.now[e.Path] = wrote{}
				continue
			}
			if err == nil && !mine {
				pl.conflicts = append(pl.conflicts, e.Path)
				continue
			}
			if err == nil {
				os.Remove(p) // a file of ours that became a folder
			}
			if err := os.Mkdir(p, 0o755); err != nil {
				return pl, fmt.Errorf("mirror %s: %w", dir, err)
			}
			pl.now[e.Path] = wrote{}
		case mine && was.CID == e.CID.String():
			pl.now[e.Path] = was // unchanged
		case err == nil && fi.IsDir() && mine:
			pl.cids[e.Path] = e.CID.String()
			pl.later = append(pl.later, e.Path)
		case err == nil && !mine && fi.Mode().IsRegular() && fi.Size() == e.Size && holds(ctx, p, e.CID):
			// The version's file, which the manifest does not name: the
			// mirror wrote it and stopped (a crash) before saying so.
			pl.now[e.Path] = wrote{CID: e.CID.String(), Size: fi.Size(), MTime: fi.ModTime()}
		case err == nil && !mine:
			pl.conflicts = append(pl.conflicts, e.Path) // changed or added here
		default:
			if err == nil && (fi.Mode()&fs.ModeSymlink != 0 || e.Kind == "symlink") {
				os.Remove(p) // the placer replaces files only; this one is ours
			}
			pl.cids[e.Path] = e.CID.String()
			pl.write = append(pl.write, e.Path)
		}
	}
	return pl, nil
}

// holds reports whether the file at p is the DAG c: its CID, as pollen
// imports it, is c. Only hashed, nothing stored.
func holds(ctx context.Context, p string, c cid.Cid) bool {
	res, err := chunker.Import(ctx, hashOnly{}, p, chunker.ImportOptions{})
	return err == nil && res.Root.Equals(c)
}

// hashOnly is a store that keeps nothing: an import into it only hashes.
type hashOnly struct{}

func (hashOnly) Get(_ context.Context, c cid.Cid) (blocks.Block, error) {
	return nil, ipld.ErrNotFound{Cid: c}
}
func (hashOnly) PutMany(context.Context, []blocks.Block) error { return nil }

// realParents reports whether every folder above rel in the mirror is a
// real folder (not a symlink nor a file), or is not there yet.
func (pl *mirrorPlan) realParents(rel string) bool {
	d := path.Dir(rel)
	if ok, seen := pl.folders[d]; seen {
		return ok
	}
	ok := pl.realParents(d)
	if ok {
		fi, err := os.Lstat(filepath.Join(pl.dir, filepath.FromSlash(d)))
		ok = errors.Is(err, fs.ErrNotExist) || err == nil && fi.IsDir()
	}
	pl.folders[d] = ok
	return ok
}

// noteWritten notes the files written in the manifest.
func (pl *mirrorPlan) noteWritten(paths []string) {
	for _, p := range paths {
		fi, err := os.Lstat(filepath.Join(pl.dir, filepath.FromSlash(p)))
		if err != nil {
			continue // not there: the next version writes it again
		}
		pl.now[p] = wrote{CID: pl.cids[p], Size: fi.Size(), MTime: fi.ModTime()}
	}
}

// prune deletes what the version no longer holds, once everything new
// is in place (a renamed file's leaves are read from its old name): the
// files as the mirror left them, then the folders deepest first, each
// only if empty. It returns the files of later whose place is free now.
func (pl *mirrorPlan) prune() ([]string, error) {
	var gone []string
	for p := range pl.old {
		if !pl.inVersion[p] {
			gone = append(gone, p)
		}
	}
	sort.Slice(gone, func(i, j int) bool {
		if di, dj := strings.Count(gone[i], "/"), strings.Count(gone[j], "/"); di != dj {
			return di > dj
		}
		return gone[i] > gone[j]
	})
	pl.folders = map[string]bool{".": true} // the writes changed them
	for _, p := range gone {
		if pl.old[p].CID == "" {
			continue
		}
		fp := filepath.Join(pl.dir, filepath.FromSlash(p))
		fi, err := os.Lstat(fp)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err == nil && pl.realParents(p) && pl.old[p].same(fi):
			if err := os.Remove(fp); err != nil {
				return nil, fmt.Errorf("mirror %s: %w", pl.dir, err)
			}
		default:
			pl.conflicts = append(pl.conflicts, p) // changed here, deleted there: kept
		}
	}
	for _, p := range gone {
		if pl.old[p].CID == "" && pl.realParents(p) {
			os.Remove(filepath.Join(pl.dir, filepath.FromSlash(p))) // fails, and stays, when not empty
		}
	}
	var free []string
	for _, p := range pl.later {
		fp := filepath.Join(pl.dir, filepath.FromSlash(p))
		os.Remove(fp) // a folder of ours, emptied by the deletions; stays when not
		if _, err := os.Lstat(fp); errors.Is(err, fs.ErrNotExist) {
			free = append(free, p)
		} else {
			pl.conflicts = append(pl.conflicts, p) // a folder still holding the user's files
		}
	}
	return free, nil
}

// save writes the manifest and returns the conflicts, sorted.
func (n *Node) saveManifest(name peer.ID, pl *mirrorPlan) ([]string, error) {
	b, _ := json.Marshal(pl.now)
	tmp := n.manifestPath(name) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return nil, err
	}
	sort.Strings(pl.conflicts)
	return pl.conflicts, os.Rename(tmp, n.manifestPath(name))
}
