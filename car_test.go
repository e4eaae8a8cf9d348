package pollen_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

// TestCARRoundTrip: a tree exported from one node imports into another
// whole (blocks repeated inside and across files included), pinned; a
// CAR holding part of a DAG stores its blocks and keeps no root.
func TestCARRoundTrip(t *testing.T) {
	ctx := t.Context()
	a, b := openNode(t), openNode(t)
	src := filepath.Join(t.TempDir(), "tree")
	if err := testdata.Tree(src, 5, testdata.TreeOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := a.Add(ctx, src, pollen.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var car bytes.Buffer
	if err := a.ExportCAR(ctx, res.Root, &car); err != nil {
		t.Fatal(err)
	}
	imp, err := b.ImportCAR(ctx, bytes.NewReader(car.Bytes()))
	if err != nil || len(imp.Roots) != 1 || imp.Roots[0] != res.Root || len(imp.Partial) != 0 {
		t.Fatalf("import: %+v, %v", imp, err)
	}
	recs, _ := b.List()
	if len(recs) != 1 || recs[0].Kind != pollen.KindPin {
		t.Errorf("records after import: %+v", recs)
	}
	out := t.TempDir()
	if _, err := b.Get(ctx, res.Root, out, pollen.GetOptions{Name: "tree"}); err != nil {
		t.Fatal(err)
	}
	sameTree(t, src, filepath.Join(out, "tree"))

	// The first half of the sections: a CAR cut at a block's end.
	sub, err := a.Add(ctx, filepath.Join(src, "images"), pollen.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var whole bytes.Buffer
	if err := a.ExportCAR(ctx, sub.Root, &whole); err != nil {
		t.Fatal(err)
	}
	c := openNode(t)
	imp, err = c.ImportCAR(ctx, bytes.NewReader(whole.Bytes()[:cutAtBlock(t, whole.Bytes())]))
	if err != nil || len(imp.Roots) != 0 || len(imp.Partial) != 1 || imp.Blocks == 0 {
		t.Fatalf("a part of a DAG: %+v, %v", imp, err)
	}
	if recs, _ := c.List(); len(recs) != 0 {
		t.Errorf("a partial DAG was recorded: %+v", recs)
	}
}

// cutAtBlock returns the length of a CARv1 up to the end of its second
// section (its header, the root, one more block).
func cutAtBlock(t *testing.T, car []byte) int {
	t.Helper()
	off := 0
	for range 3 { // the header, then two sections
		n, k := uvarint(car[off:])
		off += k + int(n)
	}
	return off
}

func uvarint(b []byte) (uint64, int) {
	var x uint64
	for i, c := range b {
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return x, i + 1
		}
	}
	return 0, 0
}

// FuzzImportCAR: a CAR is a stranger's file; any bytes give an error or
// an import, never a panic, and a root kept is whole here.
func FuzzImportCAR(f *testing.F) {
	dir := f.TempDir()
	n, err := pollen.Open(filepath.Join(dir, "repo"), pollen.Config{Offline: true, NoMDNS: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { n.Close() })
	src := filepath.Join(dir, "f")
	os.WriteFile(src, bytes.Repeat([]byte("pollen "), 40000), 0o644)
	res, err := n.Add(f.Context(), src, pollen.AddOptions{})
	if err != nil {
		f.Fatal(err)
	}
	var car bytes.Buffer
	if err := n.ExportCAR(f.Context(), res.Root, &car); err != nil {
		f.Fatal(err)
	}
	f.Add(car.Bytes())
	f.Add(car.Bytes()[:40])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		imp, err := n.ImportCAR(t.Context(), bytes.NewReader(in))
		if err != nil {
			return
		}
		for _, r := range imp.Roots {
			if err := n.Complete(t.Context(), r); err != nil {
				t.Fatalf("root %s kept but not whole: %v", r, err)
			}
		}
	})
}
