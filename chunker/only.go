package chunker

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// A get may take part of a share: ExportOptions.Only picks the files
// (and symlinks) written, by their path inside the share. Folders are
// walked whatever it says, and made only when something is written in
// them; a file not taken is not fetched beyond its top node.

// Only returns a filter that takes a path inside a share when it
// matches one of patterns (path.Match's syntax): against the whole path
// when the pattern holds a slash, else against the last name at any
// depth, so "*.mp4" takes every video.
func Only(patterns []string) (func(string) bool, error) {
	for _, pat := range patterns {
		if _, err := path.Match(pat, ""); err != nil {
			return nil, err
		}
	}
	return func(inside string) bool {
		for _, pat := range patterns {
			name := inside
			if !strings.Contains(pat, "/") {
				name = path.Base(inside)
			}
			if ok, _ := path.Match(pat, name); ok {
				return true
			}
		}
		return false
	}, nil
}

// takes reports whether the file or symlink at rel (under the export's
// folder, the share's name first) is written.
func (p *Placer) takes(rel string) bool {
	if p.o.Only == nil {
		return true
	}
	_, inside, _ := strings.Cut(filepath.ToSlash(rel), "/")
	return p.o.Only(inside)
}

// Paths returns a filter that takes the files at exactly these paths
// inside a share, and every file under the folders among them: what a
// pick from a listing names, whatever characters the names hold (a
// pattern cannot name a top-level file alone, nor a folder at every
// depth). "" or "." is the whole share.
func Paths(paths []string) (func(string) bool, error) {
	want := map[string]bool{}
	for _, p := range paths {
		c := path.Clean("/" + p)[1:]
		if c != strings.Trim(p, "/") && !(p == "." && c == "") {
			return nil, fmt.Errorf("path %q is not a clean path inside the share", p)
		}
		want[c] = true
	}
	return func(inside string) bool {
		if want[""] {
			return true
		}
		for p := inside; p != "." && p != "/" && p != ""; p = path.Dir(p) {
			if want[p] {
				return true
			}
		}
		return false
	}, nil
}
