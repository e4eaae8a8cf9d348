package main_test

import (
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Comparing a live folder with its mirrors, byte for byte, often: a
// mirror is polled until it equals the folder, and the folder may hold a
// 1 GiB file, so each file's digest is kept until the file changes (a
// mirror replaces a file by renaming a new one over it: a new inode).

// treeEntry is what a comparison needs of one path.
type treeEntry struct {
	kind string   // "dir", "file" or "symlink"
	size int64    // a file's
	sum  [32]byte // a file's SHA-256
	link string   // a symlink's target
}

func (e treeEntry) String() string {
	switch e.kind {
	case "file":
		return fmt.Sprintf("file of %d bytes, sha256 %x", e.size, e.sum[:4])
	case "symlink":
		return "symlink to " + e.link
	}
	return e.kind
}

// sums caches file digests by path and the file's identity.
type sums struct {
	mu sync.Mutex
	m  map[string]sumOf
}

type sumOf struct {
	fi  fs.FileInfo
	sum [32]byte
}

// digest returns the SHA-256 of the file at p, whose Lstat is fi.
func (s *sums) digest(p string, fi fs.FileInfo) ([32]byte, error) {
	s.mu.Lock()
	c, ok := s.m[p]
	s.mu.Unlock()
	if ok && os.SameFile(c.fi, fi) && c.fi.Size() == fi.Size() && c.fi.ModTime().Equal(fi.ModTime()) {
		return c.sum, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return [32]byte{}, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return [32]byte{}, err
	}
	c = sumOf{fi: fi}
	copy(c.sum[:], h.Sum(nil))
	s.mu.Lock()
	if s.m == nil {
		s.m = map[string]sumOf{}
	}
	s.m[p] = c
	s.mu.Unlock()
	return c.sum, nil
}

// snapshot reads the tree under dir as slash path → entry, leaving out
// hidden names (a share leaves them out; a mirror's files being written
// are hidden) and the paths in skip. A file that vanishes while it is
// read (a mirror at work) is left out too: the next poll sees it.
func (s *sums) snapshot(dir string, skip ...string) (map[string]treeEntry, error) {
	out := map[string]treeEntry{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		skipped := strings.HasPrefix(d.Name(), ".")
		for _, k := range skip {
			skipped = skipped || rel == k
		}
		if skipped {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		fi, err := os.Lstat(p)
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		switch {
		case fi.IsDir():
			out[rel] = treeEntry{kind: "dir"}
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out[rel] = treeEntry{kind: "symlink", link: target}
		case fi.Mode().IsRegular():
			sum, err := s.digest(p, fi)
			if os.IsNotExist(err) {
				return nil
			}
			if err != nil {
				return err
			}
			out[rel] = treeEntry{kind: "file", size: fi.Size(), sum: sum}
		default:
			out[rel] = treeEntry{kind: fi.Mode().Type().String()}
		}
		return nil
	})
	return out, err
}

// diffTrees lists how got differs from want, at most limit lines.
func diffTrees(want, got map[string]treeEntry, limit int) []string {
	var d []string
	for p, w := range want {
		if g, ok := got[p]; !ok {
			d = append(d, fmt.Sprintf("%s: missing (want %v)", p, w))
		} else if g != w {
			d = append(d, fmt.Sprintf("%s: %v, want %v", p, g, w))
		}
	}
	for p, g := range got {
		if _, ok := want[p]; !ok {
			d = append(d, fmt.Sprintf("%s: %v, not in the folder", p, g))
		}
	}
	sort.Strings(d)
	if len(d) > limit {
		d = append(d[:limit], fmt.Sprintf("and %d more", len(d)-limit))
	}
	return d
}

// mirrorWait is one mirror a test waits for: its folder and the paths in
// it that are the user's own, not the live folder's.
type mirrorWait struct {
	name, dir string
	own       []string
}

// waitMirrors waits until every mirror equals the folder src (but for
// its own paths), and returns how long each took from start. Past
// within, it ends the test with what still differs.
func (s *sums) waitMirrors(t *testing.T, what, src string, start time.Time, within time.Duration, mirrors ...mirrorWait) []time.Duration {
	t.Helper()
	want, err := s.snapshot(src)
	if err != nil {
		t.Fatalf("%s: reading the folder: %v", what, err)
	}
	// A mirror's own paths are the user's, whatever the folder holds there.
	wants := make([]map[string]treeEntry, len(mirrors))
	for i, m := range mirrors {
		wants[i] = maps.Clone(want)
		for _, p := range m.own {
			delete(wants[i], p)
		}
	}
	took := make([]time.Duration, len(mirrors))
	left := len(mirrors)
	for {
		for i, m := range mirrors {
			if took[i] != 0 {
				continue
			}
			got, err := s.snapshot(m.dir, m.own...)
			if err == nil && len(diffTrees(wants[i], got, 1)) == 0 {
				took[i] = time.Since(start)
				left--
			}
		}
		if left == 0 {
			return took
		}
		if time.Since(start) > within {
			for i, m := range mirrors {
				if took[i] != 0 {
					continue
				}
				got, err := s.snapshot(m.dir, m.own...)
				t.Errorf("%s: mirror %s differs from the folder after %s (%v):\n  %s",
					what, m.name, within, err, strings.Join(diffTrees(wants[i], got, 10), "\n  "))
			}
			t.FailNow()
		}
		time.Sleep(100 * time.Millisecond)
	}
}
