package main_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pollen-p2p/pollen/internal/testdata"
)

// treeSeeds are the generated trees every run checks; POLLEN_TREES=N
// checks seeds 1 to N instead.
func treeSeeds(t *testing.T) []uint64 {
	if s := os.Getenv("POLLEN_TREES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("POLLEN_TREES=%q: want a count", s)
		}
		var out []uint64
		for i := 1; i <= n; i++ {
			out = append(out, uint64(i))
		}
		return out
	}
	return []uint64{1, 2, 3}
}

// TestGeneratedTrees: each generated tree (zero runs, repeated chunks,
// the same file twice, edge sizes, deep and wide folders, a HAMT on
// every third seed) gets Kubo's CID and comes out byte for byte pollen to
// pollen, Kubo to pollen and pollen to Kubo.
func TestGeneratedTrees(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Kubo")
	}
	source := startKubo(t) // holds each tree, for Kubo → pollen
	getter := startKubo(t) // fetches each tree, for pollen → Kubo
	kaddrs, err := source.Addrs()
	if err != nil || len(kaddrs) == 0 {
		t.Fatalf("Kubo addresses: %v %v", kaddrs, err)
	}
	for _, seed := range treeSeeds(t) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			src := filepath.Join(t.TempDir(), fmt.Sprintf("tree-%d", seed))
			if err := testdata.Tree(src, seed, testdata.TreeOptions{HAMT: seed%3 == 0}); err != nil {
				t.Fatal(err)
			}
			want, err := source.Run("add", "-r", "-Q", src)
			if err != nil {
				t.Fatal(err)
			}
			want = strings.TrimSpace(want)
			repo := t.TempDir()
			if got := strings.TrimSpace(run(t, repo, "add", "-q", src).ok(t).stdout); got != want {
				t.Fatalf("pollen add gave %s, Kubo %s", got, want)
			}

			// pollen → pollen.
			s := startServer(t, repo, "seed")
			out := t.TempDir()
			run(t, t.TempDir(), append([]string{"get", want, "-o", out, "--from", s.addrs[0], "--timeout", "30s"}, isolated...)...).ok(t)
			assertSameTree(t, src, filepath.Join(out, want))

			// Kubo → pollen.
			out = t.TempDir()
			r := run(t, t.TempDir(), append([]string{"get", want, "-o", out, "--from", kaddrs[0], "--timeout", "30s"}, isolated...)...).ok(t)
			if !strings.Contains(r.stderr, "from 1 peer") {
				t.Errorf("get from Kubo did not say Kubo sent the blocks:\n%s", r.stderr)
			}
			assertSameTree(t, src, filepath.Join(out, want))

			// pollen → Kubo: pin fetches the DAG in parallel (get walks it a
			// block at a time), then get writes it from Kubo's store.
			if _, err := getter.Run("swarm", "connect", s.addrs[0]); err != nil {
				t.Fatal(err)
			}
			if _, err := getter.Run("pin", "add", want); err != nil {
				t.Fatal(err)
			}
			out = filepath.Join(t.TempDir(), "from-pollen")
			if _, err := getter.Run("get", want, "-o", out); err != nil {
				t.Fatal(err)
			}
			assertSameTree(t, src, out)
			s.stop()
			// The next seed starts from an empty Kubo getter.
			if _, err := getter.Run("pin", "rm", want); err != nil {
				t.Fatal(err)
			}
			if _, err := getter.Run("repo", "gc"); err != nil {
				t.Fatal(err)
			}
		})
	}
}
