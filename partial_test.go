package pollen_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

// TestPartOfABigFolder: one small file of a 1 GiB folder, by its path
// or by --only, moves that file's blocks and the folders' nodes (and,
// with --only, the top node of each file not taken), not the gigabyte.
func TestPartOfABigFolder(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and imports 1 GiB")
	}
	ctx := t.Context()
	nodes := onlineNodes(t, 3)
	sharer := nodes[0]
	src := filepath.Join(t.TempDir(), "big")
	if err := testdata.WriteFile(filepath.Join(src, "disk.img"), 1, 1<<30); err != nil {
		t.Fatal(err)
	}
	note := filepath.Join(src, "docs", "notes", "todo.txt")
	if err := testdata.WriteFile(note, 2, 3<<20+17); err != nil { // four blocks
		t.Fatal(err)
	}
	res, err := sharer.Share(ctx, src, pollen.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	from := []peer.AddrInfo{sharer.AddrInfo()}
	// What the file and the three folders on its path take: its blocks
	// (the node over its four leaves, the leaves) and the folder nodes.
	tree, err := sharer.Tree(ctx, res.Root, pollen.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var folders int
	for _, en := range tree.Entries {
		if en.Kind == "dir" {
			folders++
		}
	}
	if folders != 3 {
		t.Fatalf("%d folders", folders)
	}
	const slack = 64 << 10 // the folder nodes and the file's top node: a few hundred bytes each

	out := t.TempDir()
	if _, err := nodes[1].Get(ctx, res.Root, out, pollen.GetOptions{
		Path: "docs/notes/todo.txt", From: from, Stall: 30 * time.Second,
	}); err != nil {
		t.Fatal(err)
	}
	got := nodes[1].Traffic()[sharer.ID()]
	t.Logf("by path: %d blocks, %d bytes for a file of %d", got.BlocksReceived, got.Received, 3<<20+17)
	if got.Received < 3<<20+17 || got.Received > 3<<20+17+slack || got.BlocksReceived > 4+1+3 {
		t.Errorf("by path: received %d bytes in %d blocks", got.Received, got.BlocksReceived)
	}
	a, _ := os.ReadFile(note)
	b, _ := os.ReadFile(filepath.Join(out, "todo.txt"))
	if string(a) != string(b) {
		t.Error("the file differs")
	}

	out = t.TempDir()
	if _, err := nodes[2].Get(ctx, res.Root, out, pollen.GetOptions{
		Only: []string{"todo.txt"}, From: from, Stall: 30 * time.Second,
	}); err != nil {
		t.Fatal(err)
	}
	got = nodes[2].Traffic()[sharer.ID()]
	t.Logf("--only: %d blocks, %d bytes", got.BlocksReceived, got.Received)
	// disk.img's top node lists its 1024 leaves: about 45 KiB.
	if got.Received < 3<<20+17 || got.Received > 3<<20+17+slack+64<<10 || got.BlocksReceived > 4+1+3+1 {
		t.Errorf("--only: received %d bytes in %d blocks", got.Received, got.BlocksReceived)
	}
}
