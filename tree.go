package pollen

import (
	"context"
	"fmt"
	"path"
	"sync"

	"github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/pollen-p2p/pollen/chunker"
)

// A listing shows what a share holds before anything of it is fetched:
// the folders' nodes and each file's top node are fetched (the file's
// size and kind are there), never a file's contents.

// TreeEntry is one file, folder or symlink under a root.
type TreeEntry struct {
	Path string  // slash-separated from the root; "" is the root itself
	Kind string  // "file", "dir" or "symlink"
	Size int64   // a file's bytes
	CID  cid.Cid // its DAG's root
}

// TreeResult is a listing and what it cost.
type TreeResult struct {
	Entries []TreeEntry
	// Fetched counts the blocks and bytes brought from peers to list.
	Fetched      int
	FetchedBytes int64
}

// Tree lists the files and folders under root. Online, it fetches what a
// listing needs and nothing more; offline, it lists what is here, or
// fails with ErrNotLocal. o.MaxEntries bounds the entries (0: chunker's
// default).
func (n *Node) Tree(ctx context.Context, root cid.Cid, o GetOptions) (TreeResult, error) {
	max := o.MaxEntries
	if max <= 0 {
		max = chunker.DefaultMaxEntries
	}
	var res TreeResult
	if o.Path != "" {
		sub, err := n.Resolve(ctx, root, o.Path, o)
		if err != nil {
			return res, err
		}
		root = sub
	}
	if nw := n.online(); nw != nil {
		l := &lister{n: n, want: map[string]bool{string(root.Hash()): true}, max: max}
		err := n.fetch(ctx, nw, root, o, l)
		res.Fetched, res.FetchedBytes = l.fetched, l.fetchedBytes
		if err != nil {
			return res, err
		}
		if l.err != nil {
			return res, l.err
		}
	}
	entries, err := n.list(ctx, root, max)
	res.Entries = entries
	return res, err
}

// lister is the sink of a listing's fetch: it wants the root, and the
// nodes a folder (or a HAMT shard of one) links to, and nothing below a
// file's top node.
type lister struct {
	n    *Node
	mu   sync.Mutex
	want map[string]bool
	seen int // nodes ever wanted, against max
	max  int
	err  error

	fetched      int // blocks that arrived, and their bytes
	fetchedBytes int64
}

func (l *lister) Put(ctx context.Context, bl []blocks.Block) error {
	l.mu.Lock()
	for _, b := range bl {
		l.fetched++
		l.fetchedBytes += int64(len(b.RawData()))
	}
	l.mu.Unlock()
	return l.n.store.PutMany(ctx, bl)
}

func (l *lister) Wants(c cid.Cid) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err == nil && l.want[string(c.Hash())]
}

// Local takes a node the walk reached: a folder's links are wanted; the
// node itself is wanted no more, so a folder linked from many places is
// walked once (the listing expands it at each).
func (l *lister) Local(ctx context.Context, b blocks.Block) error {
	l.mu.Lock()
	delete(l.want, string(b.Cid().Hash()))
	l.mu.Unlock()
	if b.Cid().Type() != cid.DagProtobuf {
		return nil
	}
	nd, err := merkledag.DecodeProtobuf(b.RawData())
	if err != nil {
		return fmt.Errorf("block %s: %w", b.Cid(), err)
	}
	fsn, err := ft.FSNodeFromBytes(nd.Data())
	if err != nil {
		return fmt.Errorf("block %s: not UnixFS: %w", b.Cid(), err)
	}
	if t := fsn.Type(); t != ft.TDirectory && t != ft.THAMTShard {
		return nil // a file's size is in its top node; a symlink has no links
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, lk := range nd.Links() {
		if lk.Cid.Type() != cid.DagProtobuf {
			continue // a raw leaf: a file of one block, its size is the link's
		}
		if l.seen++; l.seen > l.max {
			l.err = fmt.Errorf("%w: more than %d files and folders", chunker.ErrTooLarge, l.max)
			return l.err
		}
		l.want[string(lk.Cid.Hash())] = true
	}
	return nil
}

// list walks the stored folders under root, depth first, without
// recursion (a DAG may be deep).
func (n *Node) list(ctx context.Context, root cid.Cid, max int) ([]TreeEntry, error) {
	type item struct {
		path string
		c    cid.Cid
		size uint64 // the link's, for a raw leaf
	}
	var out []TreeEntry
	stack := []item{{c: root}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if len(out) >= max {
			return out, fmt.Errorf("%w: more than %d files and folders", chunker.ErrTooLarge, max)
		}
		if it.c.Type() == cid.Raw {
			size := int64(it.size)
			if it.path == "" {
				s, err := n.store.GetSize(ctx, it.c)
				if err != nil {
					return out, notHere(it.c, err)
				}
				size = int64(s)
			}
			out = append(out, TreeEntry{Path: it.path, Kind: "file", Size: size, CID: it.c})
			continue
		}
		nd, err := n.dag.Get(ctx, it.c)
		if err != nil {
			return out, notHere(it.c, err)
		}
		pn, ok := nd.(*merkledag.ProtoNode)
		if !ok {
			return out, fmt.Errorf("block %s: not a UnixFS node", it.c)
		}
		fsn, err := ft.FSNodeFromBytes(pn.Data())
		if err != nil {
			return out, fmt.Errorf("block %s: not UnixFS: %w", it.c, err)
		}
		switch fsn.Type() {
		case ft.TFile, ft.TRaw:
			out = append(out, TreeEntry{Path: it.path, Kind: "file", Size: int64(fsn.FileSize()), CID: it.c})
		case ft.TSymlink:
			out = append(out, TreeEntry{Path: it.path, Kind: "symlink", CID: it.c})
		case ft.TDirectory, ft.THAMTShard:
			out = append(out, TreeEntry{Path: it.path, Kind: "dir", CID: it.c})
			dir, err := uio.NewDirectoryFromNode(n.dag, pn)
			if err != nil {
				return out, fmt.Errorf("folder %s: %w", it.c, err)
			}
			var links []*ipld.Link
			err = dir.ForEachLink(ctx, func(lk *ipld.Link) error {
				if len(links)+len(out) >= max {
					return fmt.Errorf("%w: more than %d files and folders", chunker.ErrTooLarge, max)
				}
				links = append(links, lk)
				return nil
			})
			if err != nil {
				return out, notHere(it.c, err)
			}
			// Pushed last first, so the folder lists in its own order.
			for i := len(links) - 1; i >= 0; i-- {
				lk := links[i]
				if err := chunker.CheckName(lk.Name); err != nil { // a get would refuse it too
					return out, fmt.Errorf("folder %q: %w", it.path, err)
				}
				stack = append(stack, item{path: path.Join(it.path, lk.Name), c: lk.Cid, size: lk.Size})
			}
		default:
			return out, fmt.Errorf("block %s: UnixFS %s is not listed", it.c, fsn.Type())
		}
	}
	return out, nil
}

// notHere says a block was missing as ErrNotLocal, else passes err on.
func notHere(c cid.Cid, err error) error {
	if ipld.IsNotFound(err) {
		return fmt.Errorf("%w: block %s", ErrNotLocal, c)
	}
	return err
}
