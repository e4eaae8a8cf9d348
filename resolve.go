package pollen

import (
	"context"
	"fmt"
	"strings"

	"github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/pollen-p2p/pollen/chunker"
)

// A path inside a share (CID/photos/2024) names one of its files or
// folders: getting or listing it fetches the folders along the path (a
// HAMT's shards with them), then that file or folder alone.

// Resolve returns the CID of the file or folder at the slash-separated
// path under root. Online, it fetches the folders along the path as it
// goes; offline, it fails with ErrNotLocal where one is missing.
func (n *Node) Resolve(ctx context.Context, root cid.Cid, path string, o GetOptions) (cid.Cid, error) {
	c := root
	for _, name := range strings.Split(strings.Trim(path, "/"), "/") {
		if name == "" {
			continue
		}
		if err := chunker.CheckName(name); err != nil {
			return cid.Undef, fmt.Errorf("path %q: %w", path, err)
		}
		child, err := n.child(ctx, c, name, o)
		if err != nil {
			return cid.Undef, fmt.Errorf("path %q: %w", path, err)
		}
		c = child
	}
	return c, nil
}

// child returns the CID that folder dir names name, fetching dir (and
// its shards) when online and missing.
func (n *Node) child(ctx context.Context, dir cid.Cid, name string, o GetOptions) (cid.Cid, error) {
	if dir.Type() != cid.DagProtobuf {
		return cid.Undef, fmt.Errorf("%q: the path goes below a file", name)
	}
	if nw := n.online(); nw != nil {
		ps := newPartSink(n, dir, shards)
		err := n.fetch(ctx, nw, dir, o, ps)
		if err == nil {
			err = ps.err
		}
		if err != nil {
			return cid.Undef, err
		}
	}
	nd, err := n.dag.Get(ctx, dir)
	if err != nil {
		return cid.Undef, notHere(dir, err)
	}
	pn, ok := nd.(*merkledag.ProtoNode)
	if !ok {
		return cid.Undef, fmt.Errorf("%q: the path goes below a file", name)
	}
	d, err := uio.NewDirectoryFromNode(n.dag, pn)
	if err != nil {
		return cid.Undef, fmt.Errorf("%q: the path goes below a file", name)
	}
	found := cid.Undef
	err = d.ForEachLink(ctx, func(l *ipld.Link) error {
		if l.Name == name {
			found = l.Cid
		}
		return nil
	})
	if err != nil {
		return cid.Undef, notHere(dir, err)
	}
	if !found.Defined() {
		return cid.Undef, fmt.Errorf("no %q in folder %s", name, dir)
	}
	return found, nil
}

// shards returns what the fetch of one folder wants below a node: a
// HAMT shard's sub-shards, whose links carry the slot's hex digits alone
// (an entry's carry the digits and its name), and nothing else.
func shards(nd *merkledag.ProtoNode, fsn *ft.FSNode) ([]cid.Cid, error) {
	if fsn.Type() != ft.THAMTShard {
		return nil, nil // a plain folder, or not one at all: child says which
	}
	digits := len(fmt.Sprintf("%X", max(fsn.Fanout(), 2)-1)) // 2 for UnixFS's fanout of 256
	var out []cid.Cid
	for _, l := range nd.Links() {
		if len(l.Name) == digits {
			out = append(out, l.Cid)
		}
	}
	return out, nil
}
