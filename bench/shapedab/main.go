// Command shapedab measures what shaping costs a node with no limit: one
// seeder and one getter in this process over loopback, both shaped
// (pollen.Config.Shaped, as the daemon runs) or both bare (as a one-shot
// command with no limit runs), alternated, a fresh getter repo each run,
// after a sync and a first uncounted run of each (page cache, heap).
//
//	shapedab [-size MIB] [-runs N] [-net tcp|quic]
//
// It prints each run's seconds and a table of the means.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

func main() {
	size := flag.Int64("size", 1024, "MiB to move")
	runs := flag.Int("runs", 5, "runs of each, alternated")
	tpt := flag.String("net", "tcp", "tcp or quic")
	flag.Parse()
	if err := run(*size, *runs, *tpt); err != nil {
		fmt.Fprintln(os.Stderr, "shapedab:", err)
		os.Exit(1)
	}
}

func run(size int64, runs int, tpt string) error {
	debug.SetMemoryLimit(2 * 192 << 20) // two nodes, each with the command's limit
	listen := ma.StringCast("/ip4/127.0.0.1/tcp/0")
	if tpt == "quic" {
		listen = ma.StringCast("/ip4/127.0.0.1/udp/0/quic-v1")
	}
	work, err := os.MkdirTemp("", "shapedab-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	file := filepath.Join(work, "data.bin")
	if err := testdata.WriteFile(file, 7, size<<20); err != nil {
		return err
	}
	ctx := context.Background()
	cfg := func(shaped bool) pollen.Config {
		return pollen.Config{Listen: []ma.Multiaddr{listen}, Offline: true, NoMDNS: true, Shaped: shaped}
	}
	// A seeder of each kind, holding the file.
	type seeder struct {
		node *pollen.Node
		from peer.AddrInfo
	}
	seeders := map[bool]seeder{}
	var root pollen.AddResult
	for _, shaped := range []bool{false, true} {
		n, err := pollen.Open(filepath.Join(work, fmt.Sprint("seed-", shaped)), cfg(shaped))
		if err != nil {
			return err
		}
		defer n.Close()
		if root, err = n.Add(ctx, file, pollen.AddOptions{}); err != nil {
			return err
		}
		if err := n.StartNetwork(); err != nil {
			return err
		}
		seeders[shaped] = seeder{n, n.AddrInfo()}
	}
	took := map[bool][]float64{}
	for i := range 2*runs + 2 {
		shaped := i%2 == 1
		dir := filepath.Join(work, fmt.Sprint("get-", i))
		g, err := pollen.Open(dir, cfg(shaped))
		if err != nil {
			return err
		}
		if err := g.StartNetwork(); err != nil {
			return err
		}
		syncAll() // the last run's writes are not this one's
		begin := time.Now()
		_, err = g.Get(ctx, root.Root, filepath.Join(dir, "out"), pollen.GetOptions{Name: "data.bin", From: []peer.AddrInfo{seeders[shaped].from}})
		d := time.Since(begin).Seconds()
		g.Close()
		os.RemoveAll(dir)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "run %d %s: %.2f s\n", i/2, kind(shaped), d)
		if i >= 2 { // run 0 warms up
			took[shaped] = append(took[shaped], d)
		}
	}
	fmt.Printf("\n%d MiB over loopback %s, %d alternated runs each\n\n", size, tpt, runs)
	fmt.Printf("| %-22s | %-40s | %6s | %6s | %6s |\n", "", "seconds", "mean", "median", "MB/s")
	fmt.Printf("|%s|%s|%s|%s|%s|\n", "------------------------", "------------------------------------------", "--------", "--------", "--------")
	for _, shaped := range []bool{false, true} {
		ts := took[shaped]
		mean := 0.0
		for _, t := range ts {
			mean += t
		}
		mean /= float64(len(ts))
		s := append([]float64(nil), ts...)
		sort.Float64s(s)
		fmt.Printf("| %-22s | %-40s | %6.2f | %6.2f | %6.0f |\n", kind(shaped), fmt.Sprintf("%.2f", ts), mean, s[len(s)/2], float64(size<<20)/1e6/mean)
	}
	return nil
}

func kind(shaped bool) string {
	if shaped {
		return "shaped, no limit"
	}
	return "bare"
}
