package chunker_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/ipfs/boxo/blockservice"
	dag "github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"

	"github.com/pollen-p2p/pollen/chunker"
	"github.com/pollen-p2p/pollen/internal/hostile"
)

// Each DAG a hostile sharer could offer is refused within seconds, with
// bounded memory, before a file is written.
func TestExportRefusesBombs(t *testing.T) {
	bombs := []struct {
		name string
		make func(context.Context, hostile.Putter) (cid.Cid, error)
		want error
	}{
		{"6 TB in three blocks", func(ctx context.Context, p hostile.Putter) (cid.Cid, error) {
			return hostile.SizeBomb(ctx, p, 10000, 60000)
		}, chunker.ErrNoSpace},
		{"400 million paths in two folders", func(ctx context.Context, p hostile.Putter) (cid.Cid, error) {
			return hostile.EntryBomb(ctx, p, 20000)
		}, chunker.ErrTooLarge},
		{"a chain of 100,000 folders", func(ctx context.Context, p hostile.Putter) (cid.Cid, error) {
			return hostile.DeepChain(ctx, p, 100000)
		}, chunker.ErrTooLarge},
		{"a 1 MB identity CID", func(ctx context.Context, p hostile.Putter) (cid.Cid, error) {
			return hostile.IdentityBomb(ctx, p, 1000000)
		}, chunker.ErrUnsafeCID},
	}
	for _, b := range bombs {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			bs := memStore()
			root, err := b.make(ctx, bs)
			if err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			var before runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err = chunker.Export(ctx, dag.NewDAGService(blockservice.New(bs, nil)), root, out, "bomb", chunker.ExportOptions{})
			took := time.Since(start)
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			t.Logf("refused in %v, heap +%d MiB (total alloc %d MiB): %v", took.Round(time.Millisecond),
				(int64(after.HeapInuse)-int64(before.HeapInuse))>>20, (after.TotalAlloc-before.TotalAlloc)>>20, err)
			if !errors.Is(err, b.want) {
				t.Fatalf("export: %v, want %v", err, b.want)
			}
			if took > 10*time.Second {
				t.Errorf("took %v to refuse", took)
			}
			if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 1<<30 {
				t.Errorf("the heap grew by %d MiB", grew>>20)
			}
			left, _ := os.ReadDir(out)
			for _, e := range left {
				t.Errorf("left %s in the target", filepath.Join(out, e.Name()))
			}
		})
	}
}
