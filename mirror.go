package pollen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen/chunker"
)

// A mirror is made equal to a version file by file: a changed file is
// written beside under a temporary name and renamed over the old one
// (chunker's export), so a reader sees the old file or the new, never a
// mix. The manifest (REPO/live/NAME.mirror.json) holds what the mirror
// last wrote, each file's CID, size and modification time: a file that
// no longer matches it was changed here, and one it does not name was
// added here. Those are the user's: never replaced nor deleted, reported
// as conflicts.

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

// mirror makes dir equal to the version at root (fetched) and returns
// the conflicts: paths changed or added here that the version would
// replace or delete, left as they are.
func (n *Node) mirror(ctx context.Context, root cid.Cid, dir string, name peer.ID) ([]string, error) {
	entries, err := n.list(ctx, root, chunker.DefaultMaxEntries)
	if err != nil {
		return nil, fmt.Errorf("mirror %s: %w", dir, err)
	}
	old := manifest{}
	if b, err := os.ReadFile(n.manifestPath(name)); err == nil {
		json.Unmarshal(b, &old) // a lost manifest: every file here is the user's
	}
	now := manifest{}
	var conflicts []string
	inVersion := map[string]bool{}
	for _, e := range entries {
		if e.Path == "" {
			continue
		}
		inVersion[e.Path] = true
		p := filepath.Join(dir, filepath.FromSlash(e.Path))
		fi, err := os.Lstat(p)
		was, ours := old[e.Path]
		switch {
		case e.Kind == "dir":
			if err == nil && !fi.IsDir() {
				conflicts = append(conflicts, e.Path)
				continue
			}
			if err := os.MkdirAll(p, 0o755); err != nil {
				return conflicts, fmt.Errorf("mirror %s: %w", dir, err)
			}
			now[e.Path] = wrote{}
			continue
		case err == nil && ours && was.CID == e.CID.String() && was.same(fi):
			now[e.Path] = was // unchanged
			continue
		case err == nil && !(ours && was.same(fi)):
			conflicts = append(conflicts, e.Path) // changed or added here
			continue
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return conflicts, fmt.Errorf("mirror %s: %w", dir, err)
		}
		if err == nil && (fi.Mode()&fs.ModeSymlink != 0 || e.Kind == "symlink") {
			os.Remove(p) // export replaces files only; this one is ours
		}
		if _, err := chunker.Export(ctx, n.dag, e.CID, filepath.Dir(p), filepath.Base(p), chunker.ExportOptions{Force: true}); err != nil {
			return conflicts, fmt.Errorf("mirror %s: %w", dir, err)
		}
		fi, err = os.Lstat(p)
		if err != nil {
			return conflicts, fmt.Errorf("mirror %s: %w", dir, err)
		}
		now[e.Path] = wrote{CID: e.CID.String(), Size: fi.Size(), MTime: fi.ModTime()}
	}
	// What the version no longer holds goes, once everything new is in
	// place (a renamed file's blocks are read from its old name), files
	// first, then folders deepest first, each only if empty.
	var gone []string
	for p := range old {
		if !inVersion[p] {
			gone = append(gone, p)
		}
	}
	sort.Slice(gone, func(i, j int) bool {
		return strings.Count(gone[i], "/") > strings.Count(gone[j], "/") || gone[i] > gone[j]
	})
	for _, p := range gone {
		if old[p].CID == "" {
			continue
		}
		fp := filepath.Join(dir, filepath.FromSlash(p))
		fi, err := os.Lstat(fp)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err == nil && old[p].same(fi):
			if err := os.Remove(fp); err != nil {
				return conflicts, fmt.Errorf("mirror %s: %w", dir, err)
			}
		default:
			conflicts = append(conflicts, p) // changed here, deleted there: kept
		}
	}
	for _, p := range gone {
		if old[p].CID == "" {
			os.Remove(filepath.Join(dir, filepath.FromSlash(p))) // fails, and stays, when not empty
		}
	}
	b, _ := json.Marshal(now)
	tmp := n.manifestPath(name) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return conflicts, err
	}
	sort.Strings(conflicts)
	return conflicts, os.Rename(tmp, n.manifestPath(name))
}
