package chunker_test

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	dag "github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/pollen-p2p/pollen/chunker"
)

// fuzzSource answers any CID with one of the fuzzer's blocks (chosen by
// the CID's last byte), as a hostile peer would if hashes did not bind it,
// and stops after a budget of blocks (a DAG without hashes may loop).
type fuzzSource struct {
	root   cid.Cid
	blocks [][]byte
	left   int
}

var errBudget = errors.New("fuzz budget spent")

func (s *fuzzSource) Get(_ context.Context, c cid.Cid) (blocks.Block, error) {
	if s.left--; s.left < 0 {
		return nil, errBudget
	}
	data := s.blocks[0]
	if !c.Equals(s.root) {
		h := c.Hash()
		data = s.blocks[int(h[len(h)-1])%len(s.blocks)]
	}
	return blocks.NewBlockWithCid(data, c)
}

// splitBlocks cuts data into up to 8 length-prefixed blocks.
func splitBlocks(data []byte) [][]byte {
	var out [][]byte
	for len(data) > 0 && len(out) < 8 {
		n, k := binary.Uvarint(data)
		if k <= 0 || n > uint64(len(data)-k) {
			out = append(out, data)
			break
		}
		out = append(out, data[k:k+int(n)])
		data = data[k+int(n):]
	}
	if len(out) == 0 {
		out = append(out, nil)
	}
	return out
}

func joinBlocks(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = binary.AppendUvarint(out, uint64(len(b)))
		out = append(out, b...)
	}
	return out
}

// FuzzExport writes arbitrary dag-pb: whatever the blocks, an export ends
// in success or an error, never a panic, and writes nothing outside its
// folder.
func FuzzExport(f *testing.F) {
	dir := ft.EmptyDirNode()
	file := dag.NodeWithData(ft.FilePBData([]byte("hello"), 5))
	leaf := []byte("leaf bytes")
	dirBytes, _ := dir.EncodeProtobuf(false)
	fileBytes, _ := file.EncodeProtobuf(false)
	withLinks := ft.EmptyDirNode()
	withLinks.AddRawLink("a", &ipld.Link{Cid: file.Cid()})
	withLinks.AddRawLink("..", &ipld.Link{Cid: file.Cid()})
	linkBytes, _ := withLinks.EncodeProtobuf(false)
	big := dag.NodeWithData(ft.FilePBData(nil, 1<<40))
	big.AddRawLink("", &ipld.Link{Cid: cid.NewCidV1(cid.Raw, file.Cid().Hash())})
	bigBytes, _ := big.EncodeProtobuf(false)
	f.Add(joinBlocks(dirBytes))
	f.Add(joinBlocks(fileBytes))
	f.Add(joinBlocks(linkBytes, fileBytes, leaf))
	f.Add(joinBlocks(bigBytes, leaf))
	f.Add([]byte("not dag-pb at all"))
	f.Fuzz(func(t *testing.T, data []byte) {
		bl := splitBlocks(data)
		root, err := chunker.Builder.Sum(bl[0])
		if err != nil {
			t.Skip()
		}
		src := &fuzzSource{root: root, blocks: bl, left: 64}
		parent := t.TempDir()
		target := filepath.Join(parent, "target")
		// The placer, as a get drives it: blocks as they come, then Finish
		// for the rest; any error is fine, a panic is not.
		p, err := chunker.NewPlacer(root, target, "out", chunker.ExportOptions{MaxEntries: 10000})
		if err != nil {
			t.Fatal(err)
		}
		rb, _ := src.Get(context.Background(), root)
		if _, err = p.Put([]blocks.Block{rb}); err == nil {
			_, err = p.Finish(context.Background(), src)
		}
		if err != nil {
			p.Abort(!errors.Is(err, errBudget))
		}
		ents, rerr := os.ReadDir(parent)
		if rerr != nil {
			t.Fatal(rerr)
		}
		for _, e := range ents {
			if e.Name() != "target" {
				t.Fatalf("export wrote %q outside its folder", e.Name())
			}
		}
	})
}
