package pollen

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchTree calls changed, from one goroutine, when the folder at dir
// changed and then stayed quiet for quiet (an editor's save storm is one
// version), and every rescan whatever the watches said: inotify misses
// events on network and some fuse file systems, and a folder too deep
// for the watch limit is still followed. It returns when ctx ends.
func watchTree(ctx context.Context, dir string, quiet, rescan time.Duration, changed func()) {
	w, err := fsnotify.NewWatcher()
	var events <-chan fsnotify.Event
	var errs <-chan error
	if err == nil {
		defer w.Close()
		addTree(w, dir)
		events, errs = w.Events, w.Errors
	}
	// Nil until something changed: the quiet period runs from the last
	// event. It starts running: the caller read the folder before the
	// watches were set, and a change in between has no event.
	timer := time.NewTimer(quiet)
	settle := timer.C
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
			timer.Reset(quiet)
			settle = timer.C
		case <-errs: // an overflow: look again once it is quiet
			if settle == nil {
				timer.Reset(quiet)
				settle = timer.C
			}
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
