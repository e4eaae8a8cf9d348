package pollen_test

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

// GC running again and again during gets and an add takes nothing they
// need: every get comes out byte for byte, verify is clean, and a GC
// after the gets keeps what they fetched (pins) and frees only what was
// not kept. Two of the gets resume one that was cancelled, so they rely
// on blocks stored before they began.
func TestGCDuringDownloads(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	src := filepath.Join(t.TempDir(), "tree")
	if err := testdata.Tree(src, 11, testdata.TreeOptions{}); err != nil {
		t.Fatal(err)
	}
	nodes := onlineNodes(t, 2)
	seeder, getter := nodes[0], nodes[1]
	tree, err := seeder.Share(ctx, src, pollen.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	from := []peer.AddrInfo{seeder.Ticket(tree.Root).Peer}

	// A get cancelled halfway leaves blocks no record keeps.
	half, stop := context.WithCancel(ctx)
	getter.Get(half, tree.Root, t.TempDir(), pollen.GetOptions{Name: "tree", From: from, Fetch: func(p pollen.FetchProgress) {
		if p.Total > 0 && p.Done > p.Total/2 {
			stop()
		}
	}})
	stop()

	var gcs atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := getter.GC(ctx); err != nil {
				t.Errorf("gc during gets: %v", err)
				return
			}
			gcs.Add(1)
		}
	}()
	outs := []string{t.TempDir(), t.TempDir()}
	errs := make([]error, len(outs)+1)
	var gets sync.WaitGroup
	for i, out := range outs {
		gets.Add(1)
		go func() {
			defer gets.Done()
			_, errs[i] = getter.Get(ctx, tree.Root, out, pollen.GetOptions{Name: "tree", From: from, Stall: 30 * time.Second})
		}()
	}
	gets.Add(1)
	go func() {
		defer gets.Done()
		_, errs[len(outs)] = getter.Add(ctx, filepath.Join(src, "images"), pollen.AddOptions{})
	}()
	gets.Wait()
	close(done)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("job %d: %v", i, err)
		}
	}
	for _, out := range outs {
		sameTree(t, src, filepath.Join(out, "tree"))
	}
	if gcs.Load() == 0 {
		t.Fatal("no GC ran during the gets")
	}
	if _, err := getter.GC(ctx); err != nil {
		t.Fatal(err)
	}
	v, err := getter.Verify(ctx, false)
	if err != nil || len(v.Corrupt) > 0 || len(v.Files) > 0 {
		t.Fatalf("verify after GC: %d corrupt, files %v, %v", len(v.Corrupt), v.Files, err)
	}
	if err := getter.Complete(ctx, tree.Root); err != nil {
		t.Errorf("GC took blocks of a fetched root: %v", err)
	}
	t.Logf("%d GCs ran during the gets", gcs.Load())
}
