package pollen_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

// A get into a folder on a disk too small is refused before it writes;
// one whose disk another program fills while it runs stops with a clear
// error, leaves the store consistent, and finishes once space is freed,
// fetching only what it lacked.
func TestGetIntoAFullDisk(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	src := filepath.Join(t.TempDir(), "big")
	os.Mkdir(src, 0o755)
	for i, name := range []string{"a.bin", "b.bin"} {
		if err := testdata.WriteFile(filepath.Join(src, name), uint64(20+i), 24*testdata.MiB); err != nil {
			t.Fatal(err)
		}
	}
	nodes := onlineNodes(t, 2)
	seeder, getter := nodes[0], nodes[1]
	share, err := seeder.Share(ctx, src, pollen.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	from := []peer.AddrInfo{seeder.Ticket(share.Root).Peer}

	small := testdata.SmallDisk(t, "40m")
	_, err = getter.Get(ctx, share.Root, small, pollen.GetOptions{From: from, Stall: 20 * time.Second})
	if !errors.Is(err, pollen.ErrNoSpace) {
		t.Fatalf("get of 48 MiB into 40 MiB = %v, want ErrNoSpace", err)
	}
	t.Logf("refused: %v", err)
	if left, _ := os.ReadDir(small); len(left) > 0 {
		t.Errorf("left %v on the small disk", left)
	}

	disk := testdata.SmallDisk(t, "200m")
	filler := filepath.Join(disk, "filler")
	var once sync.Once
	fill := func() {
		// Another program takes all the space left.
		f, _ := os.Create(filler)
		buf := make([]byte, 1<<20)
		for {
			if _, err := f.Write(buf); err != nil {
				break
			}
		}
		f.Close()
	}
	var first pollen.FetchProgress
	_, err = getter.Get(ctx, share.Root, disk, pollen.GetOptions{Name: share.Name, From: from, Stall: 20 * time.Second, Fetch: func(p pollen.FetchProgress) {
		first = p
		if p.Done > 8*testdata.MiB {
			once.Do(fill)
		}
	}})
	if !errors.Is(err, pollen.ErrNoSpace) {
		t.Fatalf("get into a disk filled meanwhile = %v, want ErrNoSpace", err)
	}
	t.Logf("stopped: %v", err)
	if v, err := getter.Verify(ctx, false); err != nil || len(v.Corrupt) > 0 {
		t.Fatalf("verify after a full disk: %d corrupt, %v", len(v.Corrupt), err)
	}
	if _, err := getter.GC(ctx); err != nil {
		t.Fatalf("gc after a full disk: %v", err)
	}
	os.Remove(filler)
	var last pollen.FetchProgress
	if _, err := getter.Get(ctx, share.Root, disk, pollen.GetOptions{Name: share.Name, From: from, Stall: 20 * time.Second, Fetch: func(p pollen.FetchProgress) { last = p }}); err != nil {
		t.Fatalf("get once space is freed: %v", err)
	}
	sameTree(t, src, filepath.Join(disk, share.Name))
	t.Logf("the first run had %d bytes when the disk filled; the rerun received %d of %d", first.Done, last.Received(), last.Total)
	if last.Received() > last.Total-first.Done+8*testdata.MiB {
		t.Errorf("the rerun received %d bytes: more than what was missing plus 8 MiB", last.Received())
	}
}
