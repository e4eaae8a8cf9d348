package chunker_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ipfs/boxo/blockservice"
	dag "github.com/ipfs/boxo/ipld/merkledag"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/pollen-p2p/pollen/chunker"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

func TestCheckWindowsName(t *testing.T) {
	cases := []struct {
		name string
		why  string // in the error; "" if the name passes
	}{
		// Device names, in any case, with extensions and spaces.
		{"CON", "device CON"},
		{"con", "device CON"},
		{"Prn", "device PRN"},
		{"aux", "device AUX"},
		{"NUL", "device NUL"},
		{"nul.txt", "device NUL"},
		{"NUL.tar.gz", "device NUL"},
		{"nul .txt", "device NUL"},
		{"COM1", "device COM1"},
		{"com9.log", "device COM9"},
		{"LPT1", "device LPT1"},
		{"lpt5.c", "device LPT5"},
		{"COM¹", "device COM¹"},
		{"com².txt", "device COM²"},
		{"LPT³", "device LPT³"},
		{"CONIN$", "device CONIN$"},
		{"conout$.log", "device CONOUT$"},
		// Near misses are ordinary names.
		{"COM0", ""},
		{"LPT0", ""},
		{"COM10", ""},
		{"LPT", ""},
		{"CONSOLE", ""},
		{"connect.txt", ""},
		{"nul_", ""},
		{"aux-1.c", ""},
		{"xnul", ""},
		{"COM⁴", ""},
		{"my.nul", ""},
		// Trailing dots and spaces.
		{"a.", "ends in a dot"},
		{"a..", "ends in a dot"},
		{"a . .", "ends in a dot"},
		{"a ", "ends in a space"},
		{"a. ", "ends in a space"},
		{" a", ""},
		{".hidden", ""},
		{"a.b", ""},
		// Characters.
		{`a\b`, `contains '\\'`},
		{"a/b", `contains '/'`},
		{"a:b", `contains ':'`},
		{"C:", `contains ':'`},
		{"a*", `contains '*'`},
		{"why?", `contains '?'`},
		{`say "hi"`, `contains '"'`},
		{"a<b", `contains '<'`},
		{"a>b", `contains '>'`},
		{"a|b", `contains '|'`},
		{"a\x00b", `contains '\x00'`},
		{"tab\there", `contains '\t'`},
		{"line\nbreak", `contains '\n'`},
		{"\x1f", `contains '\x1f'`},
		{"del\x7f", ""},
		{"ünïcødé 日本語.txt", ""},
		{"🌼 pollen", ""},
		{"a#b%c&d+e,f;g=h@i[j]k^l`m{n}o~p'q!r$", ""},
		// Bytes Windows cannot name.
		{"bad\xffbyte", "not valid UTF-8"},
	}
	for _, c := range cases {
		err := chunker.CheckWindowsName(c.name)
		switch {
		case c.why == "" && err != nil:
			t.Errorf("CheckWindowsName(%q) = %v, want nil", c.name, err)
		case c.why == "":
		case !errors.Is(err, chunker.ErrUnsafeName):
			t.Errorf("CheckWindowsName(%q) = %v, want ErrUnsafeName", c.name, err)
		case !strings.Contains(err.Error(), c.why):
			t.Errorf("CheckWindowsName(%q) = %v, want it to say %q", c.name, err, c.why)
		case !strings.Contains(err.Error(), strconv.Quote(c.name)) || strings.ContainsAny(err.Error(), "\n\r\t"):
			t.Errorf("CheckWindowsName(%q) = %q, want one line naming it escaped", c.name, err)
		}
	}
}

// On Windows a get of a share made on Linux with names Windows cannot
// store fails, naming the name, and leaves nothing behind; the same DAG
// exports on Linux. Run here under Windows' rules, through the check the
// Windows build makes.
func TestExportRefusesWindowsNames(t *testing.T) {
	ctx := context.Background()
	ds := dag.NewDAGService(blockservice.New(memStore(), nil))
	sub := func(links map[string]ipld.Node) ipld.Node {
		n, err := ds.Get(ctx, hostileDir(t, ds, links))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	// Each tree holds an ordinary file that sorts, and so is written,
	// before the name that is refused.
	cases := map[string]map[string]ipld.Node{
		"CON":     {"a.txt": fileNode("a"), "CON": fileNode("x")},
		"nul.txt": {"a.txt": fileNode("a"), "nul.txt": fileNode("x")},
		"COM¹":    {"a.txt": fileNode("a"), "COM¹": fileNode("x")},
		"dot":     {"a.txt": fileNode("a"), "notes.": fileNode("x")},
		"space":   {"a.txt": fileNode("a"), "notes ": fileNode("x")},
		"colon":   {"a.txt": fileNode("a"), "a:b": fileNode("x")},
		"star":    {"a.txt": fileNode("a"), "*": fileNode("x")},
		"control": {"a.txt": fileNode("a"), "bell\a": fileNode("x")},
		"folder":  {"a.txt": fileNode("a"), "aux": sub(map[string]ipld.Node{"x": fileNode("x")})},
		"deep": {"a.txt": fileNode("a"), "ok": sub(map[string]ipld.Node{
			"b.txt": fileNode("b"), "deeper": sub(map[string]ipld.Node{"lpt1.log": fileNode("x")})})},
		"symlink": {"a.txt": fileNode("a"), "link?": symlinkNode("a.txt")},
	}
	for name, links := range cases {
		root := hostileDir(t, ds, links)
		t.Run(name, func(t *testing.T) {
			chunker.UseWindowsNames(t)
			target := filepath.Join(t.TempDir(), "target")
			_, err := chunker.Export(ctx, ds, root, target, "out", chunker.ExportOptions{})
			if !errors.Is(err, chunker.ErrUnsafeName) {
				t.Fatalf("export = %v, want ErrUnsafeName", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error of more than one line: %q", err)
			}
			assertEmpty(t, target)
		})
		t.Run(name+" on Linux", func(t *testing.T) {
			if _, err := chunker.Export(ctx, ds, root, t.TempDir(), "out", chunker.ExportOptions{}); err != nil {
				t.Fatalf("export without Windows' rules: %v", err)
			}
		})
	}
	t.Run("the name of the root", func(t *testing.T) {
		chunker.UseWindowsNames(t)
		f := fileNode("data")
		ds.Add(ctx, f)
		target := t.TempDir()
		_, err := chunker.Export(ctx, ds, f.Cid(), target, "aux.json", chunker.ExportOptions{})
		if !errors.Is(err, chunker.ErrUnsafeName) || !strings.Contains(err.Error(), `"aux.json"`) {
			t.Fatalf("export = %v, want ErrUnsafeName naming \"aux.json\"", err)
		}
		assertEmpty(t, target)
	})
}

// A folder made and imported on Linux, big enough to be a HAMT shard,
// with one file Windows cannot name among thousands it can: under
// Windows' rules its get fails with that name and leaves nothing;
// without them that file exports.
func TestExportRefusesWindowsNameInHAMT(t *testing.T) {
	src := filepath.Join(t.TempDir(), "share")
	many := filepath.Join(src, "many")
	if err := os.MkdirAll(many, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range testdata.HAMTEntries {
		if err := os.WriteFile(filepath.Join(many, fmt.Sprintf("entry-%05d.txt", i)), fmt.Appendf(nil, "%d\n", i), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const bad = "Report: draft?.txt"
	if err := os.WriteFile(filepath.Join(many, bad), []byte("made on Linux"), 0o644); err != nil {
		t.Fatal(err)
	}
	bs := memStore()
	res, err := chunker.Import(context.Background(), bs, src, chunker.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ds := dag.NewDAGService(blockservice.New(bs, nil))
	t.Run("windows", func(t *testing.T) {
		chunker.UseWindowsNames(t)
		target := filepath.Join(t.TempDir(), "target")
		_, err := chunker.Export(context.Background(), ds, res.Root, target, "share", chunker.ExportOptions{})
		if !errors.Is(err, chunker.ErrUnsafeName) || !strings.Contains(err.Error(), strconv.Quote(bad)) {
			t.Fatalf("export = %v, want ErrUnsafeName naming %q", err, bad)
		}
		t.Logf("refused: %v", err)
		assertEmpty(t, target)
	})
	t.Run("linux", func(t *testing.T) {
		out := t.TempDir()
		only := func(inside string) bool { return inside == "many/"+bad }
		if _, err := chunker.Export(context.Background(), ds, res.Root, out, "share", chunker.ExportOptions{Only: only}); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(out, "share", "many", bad)); err != nil || string(b) != "made on Linux" {
			t.Fatalf("read back %q, %v", b, err)
		}
	})
}
