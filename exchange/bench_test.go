package exchange_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/pollen-p2p/pollen/blockstore"
	"github.com/pollen-p2p/pollen/chunker"
	"github.com/pollen-p2p/pollen/exchange"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

// BenchmarkFetch moves a 256 MiB file between two hosts on loopback, each
// with an on-disk pollen store (bench/transfer.sh compares the whole
// command with Kubo and the raw stream).
func BenchmarkFetch(b *testing.B) {
	const size = 256 << 20
	src := filepath.Join(b.TempDir(), "data.bin")
	if err := testdata.WriteFile(src, 3, size); err != nil {
		b.Fatal(err)
	}
	open := func() *blockstore.Store {
		s, err := blockstore.Open(b.TempDir(), blockstore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	}
	seedStore := open()
	res, err := chunker.Import(context.Background(), seedStore, src, chunker.ImportOptions{})
	if err != nil {
		b.Fatal(err)
	}
	seeder := &node{h: newHostB(b), bs: seedStore}
	seeder.ex = exchange.New(seeder.h, seeder.bs, exchange.Config{})
	b.SetBytes(size)
	for b.Loop() {
		b.StopTimer()
		getter := &node{h: newHostB(b), bs: open()}
		getter.ex = exchange.New(getter.h, getter.bs, exchange.Config{})
		connectB(b, getter, seeder)
		b.StartTimer()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := getter.ex.Fetch(ctx, res.Root, exchange.FetchOptions{}); err != nil {
			b.Fatal(err)
		}
		cancel()
		b.StopTimer()
		getter.ex.Close()
		getter.h.Close()
		b.StartTimer()
	}
}
