package chunker

import (
	"os"
	"path/filepath"
	"strings"
)

// caseInsensitive reports whether the target's file system folds case
// (macOS's and Windows' defaults, a FAT stick, an ext4 folder with +F),
// by making a file there and looking for it under another case. It is
// asked only once two names of a DAG differ only in case, and answered
// once. Called with mu held.
func (p *Placer) caseInsensitive() bool {
	if p.folds == 0 {
		p.folds = 2
		if probeFolds(p.dir) {
			p.folds = 1
		}
	}
	return p.folds == 1
}

// probeFolds makes a file in dir (or its nearest existing parent) and
// reports whether its name in upper case finds it.
func probeFolds(dir string) bool {
	f, err := os.CreateTemp(nearestExisting(dir), ".pollen-case-probe-*")
	if err != nil {
		return false // cannot tell: let the export find out
	}
	name := f.Name()
	f.Close()
	defer os.Remove(name)
	_, err = os.Lstat(filepath.Join(filepath.Dir(name), strings.ToUpper(filepath.Base(name))))
	return err == nil
}
