package pollen_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

// Four gets at once through one node, of content that shares blocks (a
// tree, a file inside it, the tree again), one of them cancelled halfway:
// the others come out byte for byte, verify is clean, and once both
// nodes are closed none of their goroutines is left.
func TestConcurrentDownloads(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	src := filepath.Join(t.TempDir(), "tree")
	if err := testdata.Tree(src, 7, testdata.TreeOptions{}); err != nil {
		t.Fatal(err)
	}
	seeder, getter := openNodeNoCleanup(t), openNodeNoCleanup(t)
	closed := false
	closeBoth := func() {
		if !closed {
			closed = true
			seeder.Close()
			getter.Close()
		}
	}
	defer closeBoth()
	for _, n := range []*pollen.Node{seeder, getter} {
		if err := n.StartNetwork(); err != nil {
			t.Fatal(err)
		}
	}
	tree, err := seeder.Share(ctx, src, pollen.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	file, err := seeder.Share(ctx, filepath.Join(src, "images", "disk.img"), pollen.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	from := seeder.Ticket(tree.Root).Peer

	type job struct {
		root   pollen.AddResult
		want   string
		cancel bool
	}
	jobs := []job{{tree, src, false}, {file, filepath.Join(src, "images", "disk.img"), false}, {tree, src, true}, {tree, src, false}}
	var wg sync.WaitGroup
	errs := make([]error, len(jobs))
	outs := make([]string, len(jobs))
	for i, j := range jobs {
		outs[i] = t.TempDir()
		gctx, stop := context.WithCancel(ctx)
		o := pollen.GetOptions{Name: j.root.Name, From: []peer.AddrInfo{from}, Stall: 30 * time.Second}
		if j.cancel {
			o.Fetch = func(p pollen.FetchProgress) {
				if p.Total > 0 && p.Done > p.Total/2 {
					stop()
				}
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer stop()
			_, errs[i] = getter.Get(gctx, j.root.Root, outs[i], o)
		}()
	}
	wg.Wait()
	for i, j := range jobs {
		if j.cancel {
			if !errors.Is(errs[i], context.Canceled) && errs[i] != nil {
				t.Errorf("cancelled get %d: %v", i, errs[i])
			}
			continue
		}
		if errs[i] != nil {
			t.Fatalf("get %d: %v", i, errs[i])
		}
		sameTree(t, j.want, filepath.Join(outs[i], j.root.Name))
	}
	v, err := getter.Verify(ctx, false)
	if err != nil || len(v.Corrupt) > 0 {
		t.Errorf("verify after the gets: %d corrupt, %v", len(v.Corrupt), err)
	}
	closeBoth()
}

// sameTree compares two trees' names, types and bytes.
func sameTree(t *testing.T, want, got string) {
	t.Helper()
	n := 0
	filepath.WalkDir(want, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(want, p)
		gi, err := os.Lstat(filepath.Join(got, rel))
		if err != nil {
			t.Errorf("%s: missing", rel)
			return nil
		}
		if gi.Mode().Type() != d.Type() {
			t.Errorf("%s: type %v, want %v", rel, gi.Mode().Type(), d.Type())
		}
		if d.Type().IsRegular() {
			a, _ := os.ReadFile(p)
			b, _ := os.ReadFile(filepath.Join(got, rel))
			if !bytes.Equal(a, b) {
				t.Errorf("%s: content differs", rel)
			}
		}
		n++
		return nil
	})
	if n < 2 && want == got {
		t.Errorf("compared nothing")
	}
}
