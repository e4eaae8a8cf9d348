package pollen_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

// flipPacks flips 8 bytes in the middle of every pack of a repo, as a
// failing disk does.
func flipPacks(t *testing.T, repo string) {
	t.Helper()
	packs, _ := filepath.Glob(filepath.Join(repo, "blocks", "packs", "*.pack"))
	if len(packs) == 0 {
		t.Fatal("no packs to damage")
	}
	for _, p := range packs {
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		buf := make([]byte, 8)
		f.ReadAt(buf, fi.Size()/2)
		for i := range buf {
			buf[i] ^= 0xff
		}
		f.WriteAt(buf, fi.Size()/2)
		f.Close()
	}
}

// A seeder whose disk damaged a block: with only that seeder, the get
// keeps every good block and says what nobody sent; beside an honest
// seeder, the getter drops the damaged block, takes it from the honest
// one, and keeps both connected; the damaged seeder's scrub then drops
// the block.
func TestDamagedSeederAndAnHonestOne(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	src := filepath.Join(t.TempDir(), "data.bin")
	if err := testdata.WriteFile(src, 5, 12*testdata.MiB); err != nil {
		t.Fatal(err)
	}
	nodes := onlineNodes(t, 4)
	damaged, honest, getter, alone := nodes[0], nodes[1], nodes[2], nodes[3]
	var share pollen.AddResult
	for _, n := range []*pollen.Node{damaged, honest} {
		var err error
		if share, err = n.Share(ctx, src, pollen.AddOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	flipPacks(t, damaged.Dir())
	if v, _ := damaged.Verify(ctx, false); len(v.Corrupt) == 0 {
		t.Fatal("flipping bytes in the packs damaged no block")
	}

	// Only the damaged seeder: every block but the damaged ones arrives.
	onlyDamaged := []peer.AddrInfo{damaged.Ticket(share.Root).Peer}
	_, err := alone.Get(ctx, share.Root, t.TempDir(), pollen.GetOptions{From: onlyDamaged, Stall: 3 * time.Second})
	if err == nil {
		t.Fatal("a get whose only seeder lost a block succeeded")
	}
	t.Logf("with the damaged seeder alone: %v", err)
	if st, _ := alone.Stat(ctx); st.Bytes < 8*testdata.MiB {
		t.Errorf("kept %d bytes of the good blocks, want most of 12 MiB", st.Bytes)
	}

	from := []peer.AddrInfo{onlyDamaged[0], honest.Ticket(share.Root).Peer}
	var last pollen.FetchProgress
	out := t.TempDir()
	if _, err := getter.Get(ctx, share.Root, out, pollen.GetOptions{Name: "data.bin", From: from, Stall: 20 * time.Second, Fetch: func(p pollen.FetchProgress) { last = p }}); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(src)
	got, _ := os.ReadFile(filepath.Join(out, "data.bin"))
	if string(got) != string(want) {
		t.Fatal("the file differs")
	}
	t.Logf("from the damaged seeder %d bytes, from the honest one %d", last.Peers[onlyDamaged[0].ID], last.Peers[from[1].ID])
	connected := false
	for _, p := range getter.Peers() {
		connected = connected || p.ID == onlyDamaged[0].ID
	}
	if !connected {
		t.Error("the getter cut off a seeder for one damaged block")
	}
	res, err := damaged.Scrub(ctx)
	if err != nil || len(res.Dropped) == 0 {
		t.Errorf("scrub of the damaged seeder dropped %v, %v", res.Dropped, err)
	}
	if v, _ := damaged.Verify(ctx, false); len(v.Corrupt) > 0 {
		t.Errorf("the damaged seeder still holds %d damaged blocks after its scrub", len(v.Corrupt))
	}
	if v, _ := getter.Verify(ctx, false); len(v.Corrupt) > 0 {
		t.Errorf("the getter holds %d damaged blocks", len(v.Corrupt))
	}
}
