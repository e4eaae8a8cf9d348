package testdata

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// TreeOptions shape what Tree generates.
type TreeOptions struct {
	// HAMT adds a folder of enough entries to become a HAMT shard (about
	// 3,000 small files).
	HAMT bool
}

// Tree writes a generated folder for seed with the data people have, not
// only random bytes: zero runs, a chunk repeated inside a file and across
// files, the same file twice, empty and 1-byte files, files of exactly
// 1 MiB and 1 MiB ± 1, deep nesting, non-ASCII names, a symlink, and
// sizes and shapes that vary with the seed. The same seed always writes
// the same bytes. About 15 to 30 MiB.
func Tree(root string, seed uint64, o TreeOptions) error {
	g := &gen{root: root, rng: rand.New(rand.NewPCG(seed, seed*0x9e3779b97f4a7c15+1))}
	g.tree(o)
	return g.err
}

type gen struct {
	root string
	rng  *rand.Rand
	err  error
}

func (g *gen) random(n int) []byte {
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := g.rng.Uint64()
		for k := range 8 {
			b[i+k] = byte(v >> (8 * k))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(g.rng.Uint32())
	}
	return b
}

func (g *gen) write(rel string, parts ...[]byte) {
	if g.err != nil {
		return
	}
	path := filepath.Join(g.root, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		g.err = err
		return
	}
	f, err := os.Create(path)
	if err != nil {
		g.err = err
		return
	}
	for _, p := range parts {
		if _, err := f.Write(p); err != nil {
			g.err = err
		}
	}
	if err := f.Close(); err != nil && g.err == nil {
		g.err = err
	}
}

func zeros(n int) []byte { return make([]byte, n) }

// about is n plus or minus up to spread, never below 0.
func (g *gen) about(n, spread int) int {
	return max(0, n+g.rng.IntN(2*spread+1)-spread)
}

func (g *gen) tree(o TreeOptions) {
	// A disk image: zero runs around some data, at and off chunk edges.
	g.write("images/disk.img", zeros(3*MiB), g.random(g.about(MiB, 4096)), zeros(g.about(2*MiB, 3)))
	// A sparse database file: zeros, a page, zeros.
	g.write("images/sparse.db", zeros(g.about(MiB/2, 100)), g.random(4096), zeros(g.about(3*MiB, MiB/2)))

	// One 256 KiB pattern repeated: every full chunk is the same block.
	pattern := g.random(256 << 10)
	g.write("pattern.bin", bytes.Repeat(pattern, 4*(2+g.rng.IntN(3))), pattern[:g.rng.IntN(len(pattern))])

	// The same chunk in two files, at a chunk boundary in each.
	shared := g.random(MiB)
	g.write("shared/a.bin", shared, g.random(g.about(MiB, MiB/2)))
	g.write("shared/b.bin", g.random(MiB), shared, shared[:g.rng.IntN(MiB)])

	// The same file twice, in two folders, and once more under its own name.
	same := g.random(g.about(2*MiB, MiB))
	g.write("copy one/same.bin", same)
	g.write("copy two/same.bin", same)
	g.write("same again.bin", same)

	// Edge sizes.
	g.write("edges/empty", nil)
	g.write("edges/one-byte", g.random(1))
	g.write("edges/exactly-1MiB", g.random(MiB))
	g.write("edges/1MiB-minus-1", g.random(MiB-1))
	g.write("edges/1MiB-plus-1", g.random(MiB+1))
	g.write("edges/2MiB-of-zeros", zeros(2*MiB))

	// Deep nesting, with a file at several depths.
	depth := 8 + g.rng.IntN(24)
	var path []string
	for d := range depth {
		path = append(path, fmt.Sprintf("d%d", d))
		if d%5 == 4 || d == depth-1 {
			g.write(filepath.Join(append(path, "leaf.txt")...), g.random(g.rng.IntN(3000)))
		}
	}

	// Names people use.
	for _, name := range []string{"ünïcødé 日本語.txt", "name with spaces.txt", "emoji 🌼.md", "Ελληνικά.txt", "#hash&amp;.txt"} {
		g.write(filepath.Join("names", name), g.random(g.rng.IntN(5000)))
	}
	if g.err == nil {
		g.err = os.MkdirAll(filepath.Join(g.root, "names", "empty folder"), 0o755)
	}
	if g.err == nil {
		g.err = os.Symlink("../edges/one-byte", filepath.Join(g.root, "names", "link"))
	}

	// A wide folder of small files, some of them the same.
	wide := 20 + g.rng.IntN(200)
	for i := range wide {
		content := []byte(fmt.Sprintf("file %d of seed\n", i%7))
		if i%3 == 0 {
			content = g.random(g.rng.IntN(20000))
		}
		g.write(filepath.Join("wide", fmt.Sprintf("f%04d.txt", i)), content)
	}
	if o.HAMT {
		// Long names make the folder's block pass 256 KiB sooner.
		long := strings.Repeat("x", 60)
		for i := range 3000 {
			g.write(filepath.Join("hamt", fmt.Sprintf("%s-%05d.txt", long, i)), []byte(fmt.Sprintf("%d\n", i%11)))
		}
	}
}

// Size is the content bytes of the regular files under root.
func Size(root string) (int64, error) {
	var n int64
	err := filepath.Walk(root, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return err
	})
	return n, err
}
