package pollen

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// folderWatch watches a folder tree: its watches are set when it is
// made, so a change made after that is seen, also one made while the
// first version is imported.
type folderWatch struct {
	w   *fsnotify.Watcher // nil when inotify is out of watches: rescans only
	dir string
}

func watchFolder(dir string) *folderWatch {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return &folderWatch{dir: dir}
	}
	addTree(w, dir)
	return &folderWatch{w: w, dir: dir}
}

func (fw *folderWatch) close() {
	if fw.w != nil {
		fw.w.Close()
	}
}

// run calls changed, from one goroutine, when the folder changed and
// then stayed quiet for quiet (an editor's save storm is one version),
// and every rescan whatever the watches said: inotify misses events on
// network and some fuse file systems, and a folder too deep for the
// watch limit is still followed. It returns, closing the watch, when
// ctx ends.
func (fw *folderWatch) run(ctx context.Context, quiet, rescan time.Duration, changed func()) {
	defer fw.close()
	w := fw.w
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w != nil {
		events, errs = w.Events, w.Errors
	}
	// Nil until something changed: the quiet period runs from the last
	// event.
	var settle <-chan time.Time
	var timer *time.Timer
	full := time.NewTicker(rescan)
	defer full.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if isPart(ev.Name) {
				continue
			}
			if ev.Op&fsnotify.Create != 0 {
				addTree(w, ev.Name) // a new folder: watch it and what it holds
			}
			if timer == nil {
				timer = time.NewTimer(quiet)
			} else {
				timer.Reset(quiet)
			}
			settle = timer.C
		case <-errs: // an overflow: the rescan catches what was missed
			if timer == nil {
				timer = time.NewTimer(quiet)
			}
			settle = timer.C
		case <-settle:
			settle = nil
			changed()
		case <-full.C:
			if settle == nil {
				changed()
			}
		}
	}
}

// addTree watches dir and the folders under it (inotify watches one
// folder, not a tree); a path that is not a folder is left.
func addTree(w *fsnotify.Watcher, dir string) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir // not shared (see ImportOptions.Hidden)
		}
		w.Add(p)
		return nil
	})
}

// isPart reports a file a get writes under a temporary name.
func isPart(p string) bool { return strings.HasSuffix(p, ".pollen-part") }
