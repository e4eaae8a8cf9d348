package chunker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	dag "github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

const (
	flushBytes = 8 << 20 // hand blocks to the store in batches of about this size
	inFlight   = 16      // chunks read ahead of the layout; bounds import memory
)

// Import reads the file, folder or symlink at path into st with the
// unixfs-v1-2025 profile and returns its root. Symlinks are stored as
// UnixFS symlinks, never followed. Blocks are written but not synced: the
// caller syncs at its commit point.
func Import(ctx context.Context, st Store, path string, o ImportOptions) (ImportResult, error) {
	info, err := os.Lstat(path)
	if err != nil {
		return ImportResult{}, fmt.Errorf("add %s: %w", path, unwrapPathErr(err))
	}
	im := &importer{ctx: ctx, hidden: o.Hidden, progress: o.Progress, cache: o.Cache}
	if o.Cache != nil {
		im.seen = seen{}
	}
	im.res.Name = filepath.Base(filepath.Clean(path))
	if im.total, err = im.scan(path, info); err != nil {
		return ImportResult{}, err
	}
	im.w = newWriter(ctx, st)
	im.dserv = &dagAdder{w: im.w, st: st}
	// Read buffers; a full chunk's buffer becomes its block's and is not returned.
	im.pool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}
	root, err := im.add(path, info)
	if werr := im.w.close(); err == nil {
		err = werr
	}
	if err != nil {
		return ImportResult{}, err
	}
	im.res.Root = root.Cid()
	o.Cache.replace(im.seen)
	if o.Reused != nil {
		*o.Reused = im.reused
	}
	return im.res, nil
}

type importer struct {
	ctx      context.Context
	hidden   bool
	progress Progress
	total    int64
	done     int64
	w        *writer
	dserv    *dagAdder
	pool     sync.Pool
	res      ImportResult
	cache    *FileCache
	seen     seen // what this import read, for cache
	reused   int  // files the cache spared
}

// hide reports whether a directory entry is left out: names starting
// with "." unless Hidden, as Kubo does.
func (im *importer) hide(name string) bool {
	return !im.hidden && strings.HasPrefix(name, ".")
}

// scan sums the bytes to import so progress has an honest total, and finds
// unreadable entries before anything is written.
func (im *importer) scan(path string, info fs.FileInfo) (int64, error) {
	switch {
	case info.Mode().IsRegular():
		if _, ok := im.cache.lookup(path, info); ok {
			return 0, nil // not read: nothing to count
		}
		f, err := os.Open(path) // unreadable files fail here, before anything is stored
		if err != nil {
			return 0, fmt.Errorf("add %s: %w", path, unwrapPathErr(err))
		}
		f.Close()
		return info.Size(), nil
	case info.IsDir():
		ents, err := os.ReadDir(path)
		if err != nil {
			return 0, fmt.Errorf("add %s: %w", path, unwrapPathErr(err))
		}
		var sum int64
		for _, e := range ents {
			if im.hide(e.Name()) {
				continue
			}
			ei, err := e.Info()
			if err != nil {
				return 0, fmt.Errorf("add %s: %w", filepath.Join(path, e.Name()), unwrapPathErr(err))
			}
			n, err := im.scan(filepath.Join(path, e.Name()), ei)
			if err != nil {
				return 0, err
			}
			sum += n
		}
		return sum, nil
	case info.Mode()&fs.ModeSymlink != 0:
		return 0, nil
	default:
		return 0, fmt.Errorf("add %s: unsupported file type %s", path, info.Mode().Type())
	}
}

func (im *importer) add(path string, info fs.FileInfo) (ipld.Node, error) {
	if err := im.ctx.Err(); err != nil {
		return nil, err
	}
	switch {
	case info.Mode().IsRegular():
		im.res.Files++
		if n, ok := im.cached(path, info); ok {
			return n, nil
		}
		readAt := time.Now()
		n, err := im.addFile(path)
		if err == nil {
			im.seen.note(path, info, n, readAt)
		}
		return n, err
	case info.IsDir():
		im.res.Dirs++
		return im.addDir(path)
	case info.Mode()&fs.ModeSymlink != 0:
		im.res.Symlinks++
		return im.addSymlink(path)
	default:
		return nil, fmt.Errorf("add %s: unsupported file type %s", path, info.Mode().Type())
	}
}

// cached returns the DAG of a file unchanged since the cache's import,
// from the store; a root the store lost is read from the file again.
func (im *importer) cached(path string, info fs.FileInfo) (ipld.Node, bool) {
	root, ok := im.cache.lookup(path, info)
	if !ok {
		return nil, false
	}
	n, err := im.dserv.Get(im.ctx, root)
	if err != nil {
		return nil, false
	}
	im.seen[path] = cachedFile{size: info.Size(), mtime: info.ModTime(), root: root}
	im.res.Size += info.Size()
	im.reused++
	return n, true
}

func (im *importer) addSymlink(path string) (ipld.Node, error) {
	target, err := os.Readlink(path)
	if err != nil {
		return nil, fmt.Errorf("add %s: %w", path, unwrapPathErr(err))
	}
	data, err := ft.SymlinkData(target)
	if err != nil {
		return nil, fmt.Errorf("add %s: %w", path, err)
	}
	n := dag.NodeWithData(data)
	if err := n.SetCidBuilder(Builder); err != nil {
		return nil, err
	}
	return n, im.w.put(n)
}

func (im *importer) addDir(path string) (ipld.Node, error) {
	dir, err := uio.NewDirectory(im.dserv,
		uio.WithMaxLinks(0),
		uio.WithMaxHAMTFanout(hamtFanout),
		uio.WithSizeEstimationMode(uio.SizeEstimationBlock),
		uio.WithCidBuilder(Builder),
	)
	if err != nil {
		return nil, err
	}
	dir.SetHAMTShardingSize(hamtThreshold)
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("add %s: %w", path, unwrapPathErr(err))
	}
	for _, e := range ents {
		if im.hide(e.Name()) {
			im.res.SkippedHidden++
			continue
		}
		child := filepath.Join(path, e.Name())
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("add %s: %w", child, unwrapPathErr(err))
		}
		n, err := im.add(child, info)
		if err != nil {
			return nil, err
		}
		if err := dir.AddChild(im.ctx, e.Name(), n); err != nil {
			return nil, fmt.Errorf("add %s: %w", child, err)
		}
	}
	n, err := dir.GetNode()
	if err != nil {
		return nil, fmt.Errorf("add %s: %w", path, err)
	}
	return n, im.w.put(n)
}

// leaf is one chunk on its way through the hashing workers.
type leaf struct {
	data []byte
	c    cid.Cid
	err  error
	done chan struct{}
}

// addFile builds the balanced DAG of one file. A reader goroutine fills
// chunks, workers hash them on every core, and this goroutine lays out the
// tree in order, so the CIDs are Kubo's and hashing runs in parallel.
func (im *importer) addFile(path string) (ipld.Node, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("add %s: %w", path, unwrapPathErr(err))
	}
	defer f.Close()

	ctx, cancel := context.WithCancel(im.ctx)
	defer cancel()
	ordered := make(chan *leaf, inFlight)
	work := make(chan *leaf, inFlight)
	var readErr error
	go func() { // reader
		defer close(ordered)
		defer close(work)
		for {
			buf := im.pool.Get().(*[]byte)
			n, err := io.ReadFull(f, *buf)
			if n == 0 {
				im.pool.Put(buf)
				if err != io.EOF {
					readErr = err
				}
				return
			}
			// A full chunk hands its buffer to the block for good: a store
			// may keep the bytes it is given (boxo's map datastore does).
			// A short one is copied out so the 1 MiB buffer is reused.
			data := (*buf)[:n]
			if n < chunkSize {
				data = append([]byte(nil), data...)
				im.pool.Put(buf)
			}
			l := &leaf{data: data, done: make(chan struct{})}
			select {
			case ordered <- l:
			case <-ctx.Done():
				return
			}
			work <- l
			if err == io.ErrUnexpectedEOF {
				return
			}
			if err != nil {
				readErr = err
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() { // hashers
			defer wg.Done()
			for l := range work {
				l.c, l.err = Builder.WithCodec(cid.Raw).Sum(l.data)
				close(l.done)
			}
		}()
	}
	defer wg.Wait()

	fb := &fileBuilder{im: im, leaves: ordered}
	root, err := fb.layout()
	if err == nil && readErr != nil {
		err = readErr
	}
	if err != nil {
		cancel()
		for l := range ordered { // let the reader finish
			<-l.done
		}
		return nil, fmt.Errorf("add %s: %w", path, unwrapPathErr(err))
	}
	return root, nil
}

// child is a link in a file node: the child's CID, its DAG size (Tsize)
// and the file bytes under it.
type child struct {
	c     cid.Cid
	tsize uint64
	fsize uint64
}

type fileBuilder struct {
	im     *importer
	leaves <-chan *leaf
	next   *leaf // read ahead: the layout needs to know whether more data follows
}

func (fb *fileBuilder) more() bool {
	if fb.next == nil {
		l, ok := <-fb.leaves
		if !ok {
			return false
		}
		fb.next = l
	}
	return true
}

// take removes the next hashed chunk from the queue.
func (fb *fileBuilder) take() (*leaf, error) {
	if !fb.more() {
		return nil, io.ErrUnexpectedEOF
	}
	l := fb.next
	fb.next = nil
	<-l.done
	return l, l.err
}

// store queues a hashed chunk for the store.
func (fb *fileBuilder) store(l *leaf) (child, blocks.Block, error) {
	b, err := blocks.NewBlockWithCid(l.data, l.c)
	if err != nil {
		return child{}, nil, err
	}
	size := uint64(len(l.data))
	fb.im.w.putBlock(b)
	fb.im.done += int64(size)
	fb.im.res.Size += int64(size)
	if fb.im.progress != nil {
		fb.im.progress.Progress(fb.im.done, fb.im.total)
	}
	return child{c: l.c, tsize: size, fsize: size}, b, nil
}

// nextLeaf takes and stores the next chunk.
func (fb *fileBuilder) nextLeaf() (child, error) {
	l, err := fb.take()
	if err != nil {
		return child{}, err
	}
	c, _, err := fb.store(l)
	return c, err
}

// layout is boxo's balanced layout (importer/balanced) over pre-hashed
// leaves: grow the tree one level at a time, the old root becoming the
// first child of the new one.
func (fb *fileBuilder) layout() (ipld.Node, error) {
	if !fb.more() {
		// An empty file is the empty raw block, as in Kubo.
		n, err := dag.NewRawNodeWPrefix(nil, Builder)
		if err != nil {
			return nil, err
		}
		return n, fb.im.w.put(n)
	}
	first, err := fb.take()
	if err != nil {
		return nil, err
	}
	if !fb.more() { // one chunk: the raw leaf is the file
		_, b, err := fb.store(first)
		if err != nil {
			return nil, err
		}
		return dag.DecodeRawBlock(b)
	}
	root, _, err := fb.store(first)
	if err != nil {
		return nil, err
	}
	var rootNode ipld.Node
	for depth := 1; fb.more(); depth++ {
		var n ipld.Node
		n, root, err = fb.fill([]child{root}, depth)
		if err != nil {
			return nil, err
		}
		rootNode = n
	}
	return rootNode, nil
}

// fill adds children to a node of the given depth until it holds
// maxFileLinks or the data runs out, then stores it.
func (fb *fileBuilder) fill(kids []child, depth int) (ipld.Node, child, error) {
	for len(kids) < maxFileLinks && fb.more() {
		var c child
		var err error
		if depth == 1 {
			c, err = fb.nextLeaf()
		} else {
			_, c, err = fb.fill(nil, depth-1)
		}
		if err != nil {
			return nil, child{}, err
		}
		kids = append(kids, c)
	}
	fsn := ft.NewFSNode(ft.TFile)
	n := new(dag.ProtoNode)
	if err := n.SetCidBuilder(Builder); err != nil {
		return nil, child{}, err
	}
	for _, k := range kids {
		if err := n.AddRawLink("", &ipld.Link{Cid: k.c, Size: k.tsize}); err != nil {
			return nil, child{}, err
		}
		fsn.AddBlockSize(k.fsize)
	}
	data, err := fsn.GetBytes()
	if err != nil {
		return nil, child{}, err
	}
	n.SetData(data)
	tsize, err := n.Size()
	if err != nil {
		return nil, child{}, err
	}
	if err := fb.im.w.put(n); err != nil {
		return nil, child{}, err
	}
	return n, child{c: n.Cid(), tsize: tsize, fsize: fsn.FileSize()}, nil
}

// unwrapPathErr drops the path from an *fs.PathError: callers name the path
// themselves, so the user reads it once.
func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
