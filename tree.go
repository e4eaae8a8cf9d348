package pollen

import (
	"context"
	"fmt"
	"path"

	"github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
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
		ps := newPartSink(n, root, listing(max))
		err := n.fetch(ctx, nw, root, o, ps)
		res.Fetched, res.FetchedBytes = ps.fetched, ps.fetchedBytes
		if err == nil {
			err = ps.err
		}
		if err != nil {
			return res, err
		}
	}
	entries, err := n.list(ctx, root, max)
	res.Entries = entries
	return res, err
}

// listing returns what a listing fetch wants below a node: every node a
// folder (or a HAMT shard of one) links to, at most max of them in all,
// and nothing below a file's top node (its size and kind are there; a
// raw link's size is the link's).
func listing(max int) func(*merkledag.ProtoNode, *ft.FSNode) ([]cid.Cid, error) {
	seen := 0
	return func(nd *merkledag.ProtoNode, fsn *ft.FSNode) ([]cid.Cid, error) {
		if t := fsn.Type(); t != ft.TDirectory && t != ft.THAMTShard {
			return nil, nil
		}
		var out []cid.Cid
		for _, lk := range nd.Links() {
			if lk.Cid.Type() != cid.DagProtobuf {
				continue
			}
			if seen++; seen > max {
				return nil, fmt.Errorf("%w: more than %d files and folders", chunker.ErrTooLarge, max)
			}
			out = append(out, lk.Cid)
		}
		return out, nil
	}
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
