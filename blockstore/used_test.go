package blockstore_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	dag "github.com/ipfs/boxo/ipld/merkledag"
	blocks "github.com/ipfs/go-block-format"
	ipld "github.com/ipfs/go-ipld-format"
	mh "github.com/multiformats/go-multihash"

	"github.com/pollen-p2p/pollen/blockstore"
	"github.com/pollen-p2p/pollen/blockstore/storetest"
)

// What a quota reads of the store: a DAG's blocks counted once however
// often they occur, those in a get's files told apart, and use times that
// outlive a restart and go with the root.
func TestWalkStoredAndLastUsed(t *testing.T) {
	dir := t.TempDir()
	s, err := blockstore.Open(filepath.Join(dir, "repo"), blockstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	zeros := blocks.NewBlock(make([]byte, 1<<20)) // a zero run: the same chunk three times
	other := storetest.Block(7, 1<<20)
	inFile := storetest.Block(8, 1000)
	nd := dag.NodeWithData(nil)
	for _, b := range []blocks.Block{zeros, other, zeros, inFile, zeros} {
		nd.AddRawLink("", &ipld.Link{Cid: b.Cid(), Size: uint64(len(b.RawData()))})
	}
	if err := s.PutMany(ctx, []blocks.Block{nd, zeros, other}); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(dir, "got")
	os.WriteFile(f, inFile.RawData(), 0o644)
	if err := s.AddFileRefs(ctx, f, []blockstore.FileRef{{Cid: inFile.Cid(), Size: len(inFile.RawData())}}); err != nil {
		t.Fatal(err)
	}
	var held, referenced int64
	n := 0
	err = s.WalkStored(ctx, nd.Cid(), func(_ mh.Multihash, size int64, h bool) {
		n++
		if h {
			held += size
		} else {
			referenced += size
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(2<<20 + len(nd.RawData())); n != 4 || held != want || referenced != 1000 {
		t.Errorf("walk: %d blocks, %d held, %d referenced; want 4, %d, 1000", n, held, referenced, want)
	}
	st, _ := s.Stat(ctx)
	if st.Bytes-st.Referenced != held || st.Referenced != 1000 {
		t.Errorf("stat: %d bytes, %d referenced; want %d held and 1000", st.Bytes, st.Referenced, held)
	}

	// A reseed root is pinned by replacing its record.
	s.PutRecord(blockstore.Record{Root: nd.Cid(), Kind: blockstore.KindReseed})
	s.PutRecord(blockstore.Record{Root: nd.Cid(), Kind: blockstore.KindPin})
	if recs, _ := s.Records(); len(recs) != 1 || recs[0].Kind != blockstore.KindPin {
		t.Errorf("records after pinning a reseed root: %+v", recs)
	}

	when := time.Unix(1700000000, 5)
	if err := s.Touch(nd.Cid(), when); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, filepath.Join(dir, "repo"), false)
	used, err := s.LastUsed()
	if err != nil || !used[nd.Cid()].Equal(when) {
		t.Fatalf("last used after reopening: %v, %v; want %v", used, err, when)
	}
	if err := s.ForgetUsed(nd.Cid()); err != nil {
		t.Fatal(err)
	}
	if used, _ := s.LastUsed(); len(used) != 0 {
		t.Errorf("forgotten root still used: %v", used)
	}
}
