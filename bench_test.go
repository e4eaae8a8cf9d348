package pollen_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

// BenchmarkAdd1GiB imports a 1 GiB file into a fresh repo per iteration
// (b.SetBytes makes -bench print MB/s). bench/add compares it with Kubo.
func BenchmarkAdd1GiB(b *testing.B) {
	src := os.Getenv("POLLEN_BENCH_FILE")
	if src == "" {
		src = filepath.Join(b.TempDir(), "1g.bin")
		if err := testdata.WriteFile(src, 7, 1<<30); err != nil {
			b.Fatal(err)
		}
	}
	info, err := os.Stat(src)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(info.Size())
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		repo := filepath.Join(b.TempDir(), "repo")
		node, err := pollen.Open(repo, pollen.Config{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := node.Add(context.Background(), src, pollen.AddOptions{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		node.Close()
		os.RemoveAll(repo)
		b.StartTimer()
	}
}

// BenchmarkExport1GiB writes a stored 1 GiB file back out (the last step
// of every get).
func BenchmarkExport1GiB(b *testing.B) {
	src := os.Getenv("POLLEN_BENCH_FILE")
	if src == "" {
		src = filepath.Join(b.TempDir(), "1g.bin")
		if err := testdata.WriteFile(src, 7, 1<<30); err != nil {
			b.Fatal(err)
		}
	}
	node, err := pollen.Open(filepath.Join(b.TempDir(), "repo"), pollen.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer node.Close()
	res, err := node.Add(context.Background(), src, pollen.AddOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(res.Size)
	for b.Loop() {
		out := b.TempDir()
		if _, err := node.Get(context.Background(), res.Root, out, pollen.GetOptions{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.RemoveAll(out)
		b.StartTimer()
	}
}
