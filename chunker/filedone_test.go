package chunker_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/ipfs/boxo/blockservice"
	dag "github.com/ipfs/boxo/ipld/merkledag"

	"github.com/pollen-p2p/pollen/chunker"
)

// TestFileDone: an export tells of each file once, as it is whole, with
// its path under the target folder and its size: a transfer's per-file
// progress. The same file twice is two files.
func TestFileDone(t *testing.T) {
	src := filepath.Join(t.TempDir(), "album")
	os.MkdirAll(filepath.Join(src, "disc 2"), 0o755)
	same := make([]byte, 3<<20+7)
	for i := range same {
		same[i] = byte(i * 7)
	}
	os.WriteFile(filepath.Join(src, "a.bin"), same, 0o644)
	os.WriteFile(filepath.Join(src, "disc 2", "a copy.bin"), same, 0o644)
	os.WriteFile(filepath.Join(src, "empty"), nil, 0o644)
	bs := memStore()
	res, err := chunker.Import(context.Background(), bs, src, chunker.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done := map[string]int64{}
	var order []string
	_, err = chunker.Export(context.Background(), dag.NewDAGService(blockservice.New(bs, nil)), res.Root, t.TempDir(), "album",
		chunker.ExportOptions{FileDone: func(rel string, size int64) {
			if _, again := done[rel]; again {
				t.Errorf("%s told twice", rel)
			}
			done[rel] = size
			order = append(order, rel)
		}})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(order)
	want := map[string]int64{"album/a.bin": 3<<20 + 7, "album/disc 2/a copy.bin": 3<<20 + 7, "album/empty": 0}
	if len(done) != len(want) {
		t.Fatalf("told of %v, want %v", order, want)
	}
	for rel, size := range want {
		if done[rel] != size {
			t.Errorf("%s: told %d bytes, want %d", rel, done[rel], size)
		}
	}
}
