package chunker_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipfs/boxo/blockservice"
	dag "github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/pollen-p2p/pollen/chunker"
)

func TestRoundTrip(t *testing.T) {
	src := mixed(t)
	bs := memStore()
	res, err := chunker.Import(context.Background(), bs, src, chunker.ImportOptions{Hidden: true})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var prog lastProgress
	got, err := chunker.Export(context.Background(), dag.NewDAGService(blockservice.New(bs, nil)), res.Root, out, "copy", chunker.ExportOptions{Progress: &prog})
	if err != nil {
		t.Fatal(err)
	}
	if got.Size != res.Size || got.Files != res.Files {
		t.Errorf("exported %d files, %d bytes; imported %d files, %d bytes", got.Files, got.Size, res.Files, res.Size)
	}
	if prog.done != res.Size || prog.total != res.Size {
		t.Errorf("last progress %d/%d, want %d/%d", prog.done, prog.total, res.Size, res.Size)
	}
	assertSameTree(t, src, filepath.Join(out, "copy"))
	leftovers, _ := filepath.Glob(filepath.Join(out, "copy", "*.pollen-part"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

type lastProgress struct{ done, total int64 }

func (p *lastProgress) Progress(done, total int64) { p.done, p.total = done, total }

// assertSameTree compares names, kinds, bytes and symlink targets.
func assertSameTree(t *testing.T, want, got string) {
	t.Helper()
	seen := 0
	err := filepath.WalkDir(want, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		seen++
		rel, _ := filepath.Rel(want, p)
		q := filepath.Join(got, rel)
		wi, _ := os.Lstat(p)
		gi, err := os.Lstat(q)
		if err != nil {
			t.Errorf("%s missing in copy: %v", rel, err)
			return nil
		}
		if wi.Mode().Type() != gi.Mode().Type() {
			t.Errorf("%s: type %v, want %v", rel, gi.Mode().Type(), wi.Mode().Type())
			return nil
		}
		switch {
		case wi.Mode().IsRegular():
			a, _ := os.ReadFile(p)
			b, _ := os.ReadFile(q)
			if !bytes.Equal(a, b) {
				t.Errorf("%s: content differs", rel)
			}
		case wi.Mode()&fs.ModeSymlink != 0:
			a, _ := os.Readlink(p)
			b, _ := os.Readlink(q)
			if a != b {
				t.Errorf("%s: link to %q, want %q", rel, b, a)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	copied := 0
	filepath.WalkDir(got, func(string, fs.DirEntry, error) error { copied++; return nil })
	if copied != seen {
		t.Errorf("copy has %d entries, source %d", copied, seen)
	}
}

// hostileDir builds a directory node whose links are given as-is, the way
// a malicious peer could.
func hostileDir(t *testing.T, ds ipld.DAGService, links map[string]ipld.Node) cid.Cid {
	t.Helper()
	n := ft.EmptyDirNode()
	n.SetCidBuilder(chunker.Builder)
	for name, child := range links {
		if err := ds.Add(context.Background(), child); err != nil {
			t.Fatal(err)
		}
		if err := n.AddRawLink(name, &ipld.Link{Cid: child.Cid(), Size: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ds.Add(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	return n.Cid()
}

func fileNode(data string) ipld.Node {
	n, _ := dag.NewRawNodeWPrefix([]byte(data), chunker.Builder)
	return n
}

func symlinkNode(target string) ipld.Node {
	data, _ := ft.SymlinkData(target)
	n := dag.NodeWithData(data)
	n.SetCidBuilder(chunker.Builder)
	return n
}

func TestExportRefusesHostileDAGs(t *testing.T) {
	ds := dag.NewDAGService(blockservice.New(memStore(), nil))
	sub := func(links map[string]ipld.Node) ipld.Node {
		c := hostileDir(t, ds, links)
		n, err := ds.Get(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	cases := map[string]map[string]ipld.Node{
		"dotdot":      {"..": fileNode("x")},
		"dotdot-x":    {"../x": fileNode("x")},
		"slash":       {"a/b": fileNode("x")},
		"absolute":    {"/abs": fileNode("x")},
		"empty":       {"": fileNode("x")},
		"dot":         {".": fileNode("x")},
		"nul":         {"a\x00b": fileNode("x")},
		"deep-dotdot": {"ok": sub(map[string]ipld.Node{"..": fileNode("x")})},
		"through-symlink": {
			"s":   symlinkNode("../outside"),
			"s/x": fileNode("escaped"),
		},
	}
	for name, links := range cases {
		t.Run(name, func(t *testing.T) {
			root := hostileDir(t, ds, links)
			parent := t.TempDir()
			outside := filepath.Join(parent, "outside")
			os.Mkdir(outside, 0o755)
			target := filepath.Join(parent, "target")
			_, err := chunker.Export(context.Background(), ds, root, target, "out", chunker.ExportOptions{})
			if !errors.Is(err, chunker.ErrUnsafeName) {
				t.Fatalf("export = %v, want ErrUnsafeName", err)
			}
			assertEmpty(t, outside)
			assertEmpty(t, target)
		})
	}
}

func TestExportNeverWritesThroughSymlink(t *testing.T) {
	ds := dag.NewDAGService(blockservice.New(memStore(), nil))
	inner := hostileDir(t, ds, map[string]ipld.Node{"x": fileNode("escaped")})
	innerNode, _ := ds.Get(context.Background(), inner)
	// The DAG has a symlink "s" and then a folder "s" holding x: the
	// second "s" would go through the first.
	dup := ft.EmptyDirNode()
	dup.SetCidBuilder(chunker.Builder)
	sl := symlinkNode("../outside")
	ds.Add(context.Background(), sl)
	dup.AddRawLink("s", &ipld.Link{Cid: sl.Cid()})
	dup.AddRawLink("s", &ipld.Link{Cid: innerNode.Cid()})
	ds.Add(context.Background(), dup)

	parent := t.TempDir()
	outside := filepath.Join(parent, "outside")
	os.Mkdir(outside, 0o755)
	target := filepath.Join(parent, "target")
	if _, err := chunker.Export(context.Background(), ds, dup.Cid(), target, "out", chunker.ExportOptions{}); err == nil {
		t.Fatal("export of a DAG with a name twice succeeded")
	}
	assertEmpty(t, outside)

	// A symlink already in the target where the DAG has a folder.
	os.MkdirAll(filepath.Join(target, "out"), 0o755)
	os.Symlink(outside, filepath.Join(target, "out", "s"))
	clean := hostileDir(t, ds, map[string]ipld.Node{"s": innerNode})
	_, err := chunker.Export(context.Background(), ds, clean, target, "out", chunker.ExportOptions{Force: true})
	if !errors.Is(err, chunker.ErrExists) {
		t.Fatalf("export over a symlinked folder = %v, want ErrExists", err)
	}
	assertEmpty(t, outside)
}

func TestExportKeepsExistingFiles(t *testing.T) {
	bs := memStore()
	ds := dag.NewDAGService(blockservice.New(bs, nil))
	root := hostileDir(t, ds, map[string]ipld.Node{"a.txt": fileNode("new"), "b.txt": fileNode("new b")})
	target := t.TempDir()
	os.MkdirAll(filepath.Join(target, "out"), 0o755)
	os.WriteFile(filepath.Join(target, "out", "b.txt"), []byte("mine"), 0o644)

	_, err := chunker.Export(context.Background(), ds, root, target, "out", chunker.ExportOptions{})
	if !errors.Is(err, chunker.ErrExists) {
		t.Fatalf("export = %v, want ErrExists", err)
	}
	if b, _ := os.ReadFile(filepath.Join(target, "out", "b.txt")); string(b) != "mine" {
		t.Errorf("existing file overwritten: %q", b)
	}
	if _, err := os.Lstat(filepath.Join(target, "out", "a.txt")); err == nil {
		t.Error("a.txt written although the export was refused")
	}
	if _, err := chunker.Export(context.Background(), ds, root, target, "out", chunker.ExportOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(target, "out", "b.txt")); string(b) != "new b" {
		t.Errorf("--force left %q", b)
	}
}

func TestExportMissingBlock(t *testing.T) {
	ds := dag.NewDAGService(blockservice.New(memStore(), nil))
	f := fileNode("never stored")
	target := t.TempDir()
	_, err := chunker.Export(context.Background(), ds, f.Cid(), target, "x", chunker.ExportOptions{})
	if !ipld.IsNotFound(err) {
		t.Fatalf("export of a missing block = %v, want not found", err)
	}
	assertEmpty(t, target)
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("%s: unexpected %s", dir, e.Name())
	}
}

// A Placer writes each leaf where it goes as it comes and says where, so
// a store can point at the exported file instead of keeping a second
// copy; it rewrites a stale partial file in place (a store may be reading
// blocks from it) and cuts it to the file's length.
func TestPlacerTellsWhereLeavesWent(t *testing.T) {
	ctx := context.Background()
	src := filepath.Join(t.TempDir(), "data.bin")
	data := bytes.Repeat([]byte("pollen leaves "), (3<<20)/14+777)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	bs := memStore()
	res, err := chunker.Import(ctx, bs, src, chunker.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	// A longer partial file from an earlier, interrupted get.
	stale := filepath.Join(out, ".data.bin.pollen-part")
	if err := os.WriteFile(stale, bytes.Repeat([]byte{'x'}, len(data)+5000), 0o644); err != nil {
		t.Fatal(err)
	}
	var from, to string
	var moved []chunker.Placed
	p, err := chunker.NewPlacer(res.Root, out, "data.bin", chunker.ExportOptions{
		Renamed: func(ms []chunker.Moved) error {
			for _, m := range ms {
				from, to, moved = m.From, m.To, m.Leaves
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	rootBlock, _ := bs.Get(ctx, res.Root)
	if placed, err := p.Put([]blocks.Block{rootBlock}); err != nil || len(placed) != 0 {
		t.Fatalf("Put(root) = %v, %v", placed, err)
	}
	nd, _ := dag.DecodeProtobuf(rootBlock.RawData())
	var got []chunker.Placed
	// Leaves in reverse order: a placer writes each where it goes.
	for i := len(nd.Links()) - 1; i >= 0; i-- {
		b, _ := bs.Get(ctx, nd.Links()[i].Cid)
		placed, err := p.Put([]blocks.Block{b})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, placed...)
	}
	if _, err := p.Finish(ctx, bs); err != nil {
		t.Fatal(err)
	}
	final := filepath.Join(out, "data.bin")
	written, err := os.ReadFile(final)
	if err != nil || !bytes.Equal(written, data) {
		t.Fatalf("exported file differs from the source (%d bytes against %d): %v", len(written), len(data), err)
	}
	if from != stale || to != final || len(moved) != 4 {
		t.Errorf("Renamed(%q, %q, %d leaves), want (%q, %q, 4)", from, to, len(moved), stale, final)
	}
	for _, m := range moved { // each leaf where it is in the file, under its name
		if b, err := bs.Get(ctx, m.Cid); err != nil || m.Path != final || !bytes.Equal(written[m.Off:m.Off+int64(m.Size)], b.RawData()) {
			t.Errorf("Renamed says %s is at %s:%d, it is not", m.Cid, m.Path, m.Off)
		}
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the temporary file is still there: %v", err)
	}
	if len(got) != 4 {
		t.Fatalf("told of %d leaves, want 4", len(got))
	}
	for _, pl := range got {
		b, err := bs.Get(ctx, pl.Cid)
		if pl.Path != stale || err != nil || pl.Size != len(b.RawData()) || !bytes.Equal(written[pl.Off:pl.Off+int64(pl.Size)], b.RawData()) {
			t.Errorf("the file's bytes at %s:%d are not block %s", pl.Path, pl.Off, pl.Cid)
		}
	}
}

// A DAG of three blocks can name a file from millions of places: a folder
// whose entries all point at one folder whose entries all point at one
// file. The export refuses it once it passes its budget, and takes back
// what it made.
func TestExportBudget(t *testing.T) {
	ds := dag.NewDAGService(blockservice.New(memStore(), nil))
	fanout := func(child ipld.Node) ipld.Node {
		links := map[string]ipld.Node{}
		for i := range 300 {
			links[fmt.Sprintf("e%03d", i)] = child
		}
		n, err := ds.Get(context.Background(), hostileDir(t, ds, links))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	root := fanout(fanout(fileNode("x"))) // 90,000 paths
	target := filepath.Join(t.TempDir(), "target")
	_, err := chunker.Export(context.Background(), ds, root.Cid(), target, "out", chunker.ExportOptions{MaxEntries: 10000})
	if !errors.Is(err, chunker.ErrTooLarge) {
		t.Fatalf("export = %v, want ErrTooLarge", err)
	}
	assertEmpty(t, target)
	if _, err := chunker.Export(context.Background(), ds, root.Cid(), target, "out", chunker.ExportOptions{MaxEntries: 100000}); err != nil {
		t.Fatalf("within a budget of 100,000: %v", err)
	}
}

// Findings of a review, each once a fault: a file node whose sizes lie,
// an entry named as another's temporary file, a name near the length
// limit, two exports to one target at once, a symlink as the root.
func TestPlacerReviewFindings(t *testing.T) {
	ctx := context.Background()
	ds := dag.NewDAGService(blockservice.New(memStore(), nil))
	leaf := func(s string) ipld.Node { n := fileNode(s); ds.Add(ctx, n); return n }

	t.Run("sizes that do not add up", func(t *testing.T) {
		a, b := leaf(strings.Repeat("a", 100)), leaf(strings.Repeat("b", 100))
		inner := ft.NewFSNode(ft.TFile)
		inner.AddBlockSize(150) // says 150, holds 100
		innerNode, _ := inner.GetBytes()
		in := dag.NodeWithData(innerNode)
		in.SetCidBuilder(chunker.Builder)
		in.AddNodeLink("", a)
		ds.Add(ctx, in)
		root := ft.NewFSNode(ft.TFile)
		root.AddBlockSize(100)
		root.AddBlockSize(100)
		rb, _ := root.GetBytes()
		r := dag.NodeWithData(rb)
		r.SetCidBuilder(chunker.Builder)
		r.AddNodeLink("", in)
		r.AddNodeLink("", b)
		ds.Add(ctx, r)
		target := t.TempDir()
		if _, err := chunker.Export(ctx, ds, r.Cid(), target, "f", chunker.ExportOptions{}); err == nil {
			t.Fatal("a file whose node sizes lie was exported")
		}
		assertEmpty(t, target)
	})
	t.Run("an entry named as a temporary file", func(t *testing.T) {
		root := hostileDir(t, ds, map[string]ipld.Node{"foo": leaf("real"), ".foo.pollen-part": leaf("other")})
		_, err := chunker.Export(ctx, ds, root, t.TempDir(), "out", chunker.ExportOptions{Force: true})
		if !errors.Is(err, chunker.ErrUnsafeName) {
			t.Fatalf("export = %v, want ErrUnsafeName", err)
		}
	})
	t.Run("a name of 250 bytes", func(t *testing.T) {
		name := strings.Repeat("n", 250)
		root := hostileDir(t, ds, map[string]ipld.Node{name: leaf("long")})
		out := t.TempDir()
		if _, err := chunker.Export(ctx, ds, root, out, "out", chunker.ExportOptions{}); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(out, "out", name)); err != nil || string(b) != "long" {
			t.Fatalf("read back %q, %v", b, err)
		}
	})
	t.Run("two exports to one target at once", func(t *testing.T) {
		f := leaf("once")
		out := t.TempDir()
		p, err := chunker.NewPlacer(f.Cid(), out, "x", chunker.ExportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := chunker.NewPlacer(f.Cid(), out, "x", chunker.ExportOptions{}); !errors.Is(err, chunker.ErrExists) {
			t.Fatalf("a second placer on the same target: %v, want ErrExists", err)
		}
		p.Abort(true)
		if _, err := chunker.Export(ctx, ds, f.Cid(), out, "x", chunker.ExportOptions{}); err != nil {
			t.Fatalf("after the first ended: %v", err)
		}
	})
	t.Run("a symlink as the root, into a folder not made yet", func(t *testing.T) {
		sl := symlinkNode("elsewhere")
		ds.Add(ctx, sl)
		out := filepath.Join(t.TempDir(), "not", "yet")
		if _, err := chunker.Export(ctx, ds, sl.Cid(), out, "link", chunker.ExportOptions{}); err != nil {
			t.Fatal(err)
		}
		if got, err := os.Readlink(filepath.Join(out, "link")); err != nil || got != "elsewhere" {
			t.Fatalf("link: %q, %v", got, err)
		}
	})
}

// A one-block file refused because other bytes are there gives its
// target back: the same get with Force, asked after, may write there.
func TestRefusedRawPlacerGivesBackItsTarget(t *testing.T) {
	out := t.TempDir()
	os.WriteFile(filepath.Join(out, "a.txt"), []byte("mine"), 0o644)
	b := blocks.NewBlock([]byte("yours"))
	root := cid.NewCidV1(cid.Raw, b.Cid().Hash())
	if _, err := chunker.NewPlacer(root, out, "a.txt", chunker.ExportOptions{}); !errors.Is(err, chunker.ErrExists) {
		t.Fatalf("over other bytes: %v", err)
	}
	p, err := chunker.NewPlacer(root, out, "a.txt", chunker.ExportOptions{Force: true})
	if err != nil {
		t.Fatalf("again with Force: %v", err)
	}
	p.Abort(true)
}
