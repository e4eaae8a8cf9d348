package hostile

import (
	"context"
	"crypto/rand"
	"fmt"

	dag "github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	mh "github.com/multiformats/go-multihash"
)

// DAGs a hostile sharer offers: small to send, ruinous to write out
// naively. Each is put into a store the caller serves it from.

// Putter is where the blocks go (a boxo blockstore will do).
type Putter interface {
	PutMany(context.Context, []blocks.Block) error
}

var v1 = cid.V1Builder{Codec: cid.DagProtobuf, MhType: mh.SHA2_256}

func node(data []byte) *dag.ProtoNode {
	n := dag.NodeWithData(data)
	n.SetCidBuilder(v1)
	return n
}

// fileNode is a UnixFS file node linking to children of the given sizes.
func fileNode(links []cid.Cid, sizes []uint64) (*dag.ProtoNode, error) {
	fsn := ft.NewFSNode(ft.TFile)
	for _, s := range sizes {
		fsn.AddBlockSize(s)
	}
	data, err := fsn.GetBytes()
	if err != nil {
		return nil, err
	}
	n := node(data)
	for i, c := range links {
		if err := n.AddRawLink("", &ipld.Link{Cid: c, Size: sizes[i]}); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// dirNode is a UnixFS folder of the given entries.
func dirNode(names []string, links []cid.Cid) (*dag.ProtoNode, error) {
	n := node(ft.FolderPBData())
	for i, name := range names {
		if err := n.AddRawLink(name, &ipld.Link{Cid: links[i], Size: 1}); err != nil {
			return nil, err
		}
	}
	return n, nil
}

func put(ctx context.Context, p Putter, bl ...blocks.Block) error { return p.PutMany(ctx, bl) }

// SizeBomb is a file of width×width copies of one leaf of leafSize
// bytes, in three blocks: width 10,000 and a 60 KB leaf declare 6 TB.
func SizeBomb(ctx context.Context, p Putter, width, leafSize int) (cid.Cid, error) {
	data := make([]byte, leafSize)
	rand.Read(data)
	lc, _ := cid.V1Builder{Codec: cid.Raw, MhType: mh.SHA2_256}.Sum(data)
	leaf, _ := blocks.NewBlockWithCid(data, lc)
	links, sizes := make([]cid.Cid, width), make([]uint64, width)
	for i := range links {
		links[i], sizes[i] = lc, uint64(leafSize)
	}
	mid, err := fileNode(links, sizes)
	if err != nil {
		return cid.Undef, err
	}
	for i := range links {
		links[i], sizes[i] = mid.Cid(), uint64(width*leafSize)
	}
	root, err := fileNode(links, sizes)
	if err != nil {
		return cid.Undef, err
	}
	return root.Cid(), put(ctx, p, leaf, mid, root)
}

// EntryBomb is a folder of width entries that are each the same folder
// of width one-byte files: width 20,000 names 400 million paths in two
// folder blocks.
func EntryBomb(ctx context.Context, p Putter, width int) (cid.Cid, error) {
	lc, _ := cid.V1Builder{Codec: cid.Raw, MhType: mh.SHA2_256}.Sum([]byte("x"))
	leaf, _ := blocks.NewBlockWithCid([]byte("x"), lc)
	names, links := make([]string, width), make([]cid.Cid, width)
	for i := range names {
		names[i], links[i] = fmt.Sprintf("f%06d", i), lc
	}
	inner, err := dirNode(names, links)
	if err != nil {
		return cid.Undef, err
	}
	for i := range names {
		names[i], links[i] = fmt.Sprintf("d%06d", i), inner.Cid()
	}
	root, err := dirNode(names, links)
	if err != nil {
		return cid.Undef, err
	}
	return root.Cid(), put(ctx, p, leaf, inner, root)
}

// DeepChain is depth folders, each holding the next as "d".
func DeepChain(ctx context.Context, p Putter, depth int) (cid.Cid, error) {
	lc, _ := cid.V1Builder{Codec: cid.Raw, MhType: mh.SHA2_256}.Sum([]byte("bottom"))
	leaf, _ := blocks.NewBlockWithCid([]byte("bottom"), lc)
	bl := []blocks.Block{leaf}
	c, name := lc, "f"
	for range depth {
		n, err := dirNode([]string{name}, []cid.Cid{c})
		if err != nil {
			return cid.Undef, err
		}
		bl = append(bl, n)
		c, name = n.Cid(), "d"
		if len(bl) >= 4096 {
			if err := put(ctx, p, bl...); err != nil {
				return cid.Undef, err
			}
			bl = bl[:0]
		}
	}
	return c, put(ctx, p, bl...)
}

// IdentityBomb is a folder holding one file whose CID is an identity
// multihash of size bytes: no block to fetch, the bytes are in the link.
func IdentityBomb(ctx context.Context, p Putter, size int) (cid.Cid, error) {
	data := make([]byte, size)
	h, err := mh.Sum(data, mh.IDENTITY, -1)
	if err != nil {
		return cid.Undef, err
	}
	root, err := dirNode([]string{"big.bin"}, []cid.Cid{cid.NewCidV1(cid.Raw, h)})
	if err != nil {
		return cid.Undef, err
	}
	return root.Cid(), put(ctx, p, root)
}

// NamedFolder is a folder of small files with the given names.
func NamedFolder(ctx context.Context, p Putter, names ...string) (cid.Cid, error) {
	var bl []blocks.Block
	links := make([]cid.Cid, len(names))
	for i, name := range names {
		data := []byte("file " + name)
		c, _ := cid.V1Builder{Codec: cid.Raw, MhType: mh.SHA2_256}.Sum(data)
		b, _ := blocks.NewBlockWithCid(data, c)
		bl = append(bl, b)
		links[i] = c
	}
	root, err := dirNode(names, links)
	if err != nil {
		return cid.Undef, err
	}
	return root.Cid(), put(ctx, p, append(bl, root)...)
}
