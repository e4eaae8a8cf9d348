package blockstore_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	blocks "github.com/ipfs/go-block-format"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/pollen-p2p/pollen/blockstore"
	"github.com/pollen-p2p/pollen/blockstore/storetest"
)

// A file written once by a get stands in for its blocks: they read back
// through the store from the file, follow it when it is renamed, and a
// block whose bytes in the file changed is missing (fetched again), not
// served.
func TestFileRefs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, filepath.Join(dir, "repo"), false)
	bl := []blocks.Block{storetest.Block(1, 1<<20), storetest.Block(2, 1<<20), storetest.Block(3, 1000)}
	var content []byte
	var refs []blockstore.FileRef
	for _, b := range bl {
		refs = append(refs, blockstore.FileRef{Cid: b.Cid(), Off: int64(len(content)), Size: len(b.RawData())})
		content = append(content, b.RawData()...)
	}
	part := filepath.Join(dir, ".out.part")
	if err := os.WriteFile(part, content, 0o644); err != nil {
		t.Fatal(err)
	}
	// A block already stored keeps its own copy.
	if err := s.Put(ctx, bl[2]); err != nil {
		t.Fatal(err)
	}
	if err := s.AddFileRefs(ctx, part, refs); err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		for _, b := range bl {
			got, err := s.Get(ctx, b.Cid())
			if err != nil || !bytes.Equal(got.RawData(), b.RawData()) {
				t.Fatalf("%s: Get of a %d-byte block: %v", when, len(b.RawData()), err)
			}
			err = s.View(ctx, b.Cid(), func(d []byte) error {
				if !bytes.Equal(d, b.RawData()) {
					t.Errorf("%s: View gave other bytes", when)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("%s: View: %v", when, err)
			}
			if n, err := s.GetSize(ctx, b.Cid()); err != nil || n != len(b.RawData()) {
				t.Fatalf("%s: GetSize = %d, %v", when, n, err)
			}
		}
	}
	check("in the partial file")

	final := filepath.Join(dir, "out")
	if err := os.Rename(part, final); err != nil {
		t.Fatal(err)
	}
	// The same references under the new name replace the old ones.
	if err := s.AddFileRefs(ctx, final, refs); err != nil {
		t.Fatal(err)
	}
	check("after the rename")

	// The user edits the file: the second block's bytes change.
	f, err := os.OpenFile(final, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("edited"), (1<<20)+10)
	f.Close()
	if r, err := s.Verify(ctx, false); err != nil || len(r.Corrupt) != 1 || r.Corrupt[0].Hash().String() != bl[1].Cid().Hash().String() {
		t.Fatalf("Verify = %+v, %v; want the edited block corrupt", r, err)
	}
	if _, err := s.Get(ctx, bl[1].Cid()); !ipld.IsNotFound(err) {
		t.Fatalf("Get of the edited block = %v, want not found", err)
	}
	if ok, _ := s.Has(ctx, bl[1].Cid()); ok {
		t.Error("the edited block is still listed after a read found it changed")
	}
	if got, err := s.Get(ctx, bl[0].Cid()); err != nil || !bytes.Equal(got.RawData(), bl[0].RawData()) {
		t.Errorf("an untouched block of the edited file: %v", err)
	}

	// The file removed: its blocks are missing (Has looks, without
	// reading), the stored copy stays.
	os.Remove(final)
	if ok, _ := s.Has(ctx, bl[0].Cid()); ok {
		t.Error("Has lists a block whose file is gone")
	}
	if n, err := s.GetSize(ctx, bl[0].Cid()); !ipld.IsNotFound(err) {
		t.Errorf("GetSize of a block whose file is gone = %d, %v; want not found", n, err)
	}
	if err := s.View(ctx, bl[0].Cid(), func([]byte) error { return nil }); !ipld.IsNotFound(err) {
		t.Errorf("View of a block whose file is gone = %v, want not found", err)
	}
	if _, err := s.Get(ctx, bl[2].Cid()); err != nil {
		t.Errorf("the block stored in the repo: %v", err)
	}
}
