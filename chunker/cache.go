package chunker

import (
	"io/fs"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// FileCache lets an import of a folder imported before skip the files
// that did not change: a file whose path, size and modification time are
// those of the last import is not read again, its DAG's root is taken
// from the store, so the folders above an unchanged file keep their CIDs
// (content addressing makes the DAG the same either way). A live folder
// imports again on every change; this is what makes that cost the change
// and not the folder.
//
// The zero value is empty and ready. It is safe for concurrent use, but
// one import at a time uses it.
type FileCache struct {
	mu   sync.Mutex
	last map[string]cachedFile // by absolute path, as the last import saw them
}

type cachedFile struct {
	size  int64
	mtime time.Time
	root  cid.Cid
}

// racyWindow: a file modified within this of being read may change again
// within its modification time's granularity without its mtime moving
// (git's "racily clean" entries); such a file is read again next time.
const racyWindow = 2 * time.Second

// lookup returns the root of the file at path when it is unchanged since
// the last import.
func (fc *FileCache) lookup(path string, info fs.FileInfo) (cid.Cid, bool) {
	if fc == nil {
		return cid.Undef, false
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	e, ok := fc.last[path]
	if !ok || e.size != info.Size() || !e.mtime.Equal(info.ModTime()) {
		return cid.Undef, false
	}
	return e.root, true
}

// Len is the files the cache holds.
func (fc *FileCache) Len() int {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return len(fc.last)
}

// seen collects what one import finds, to replace the cache when it
// succeeds (files gone since are forgotten then).
type seen map[string]cachedFile

func (s seen) note(path string, info fs.FileInfo, n ipld.Node, readAt time.Time) {
	if s == nil || readAt.Sub(info.ModTime()) < racyWindow {
		return
	}
	s[path] = cachedFile{size: info.Size(), mtime: info.ModTime(), root: n.Cid()}
}

func (fc *FileCache) replace(s seen) {
	if fc == nil {
		return
	}
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.last = s
}
