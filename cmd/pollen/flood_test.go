package main_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen/internal/hostile"
)

// rss reads a process's resident and peak resident memory, in bytes.
func rss(t *testing.T, pid int) (cur, peak int64) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			cur = n << 10
		case "VmHWM:":
			peak = n << 10
		}
	}
	return cur, peak
}

// Four identities flood a daemon's have protocol, two its blocks
// protocol and two its Bitswap, with random CIDs for 8 s: its memory stays under 1 GiB, it is
// back under 300 MiB 15 s after they leave, and it still serves.
func TestFloodOnADaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("a 30 s flood")
	}
	repo := t.TempDir()
	d, _ := startDaemon(t, repo)
	target, err := peer.AddrInfoFromString(d.addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	pid := d.cmd.Process.Pid
	base, _ := rss(t, pid)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var haves, blocks hostile.Flood
	flooder := func(attack func(h host.Host)) {
		h, err := hostile.NewHost()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		wg.Add(1)
		go func() { defer wg.Done(); attack(h) }()
	}
	for range 4 {
		flooder(func(h host.Host) { hostile.Have(ctx, h, *target, 64, 1<<17, &haves) })
	}
	for range 2 {
		flooder(func(h host.Host) { hostile.Blocks(ctx, h, *target, 64, 1<<14, &blocks) })
		flooder(func(h host.Host) { hostile.Bitswap(ctx, h, *target, 500, 1000) })
	}
	time.Sleep(8 * time.Second)
	_, peak := rss(t, pid)
	cancel()
	wg.Wait()
	var after int64
	for range 15 {
		time.Sleep(time.Second)
		if after, _ = rss(t, pid); after < 300<<20 {
			break
		}
	}
	t.Logf("daemon RSS: %d MiB before, peak %d MiB under the flood, %d MiB after (have streams served %d, refused %d; blocks streams served %d, refused %d)",
		base>>20, peak>>20, after>>20, haves.Opened, haves.Failed, blocks.Opened, blocks.Failed)
	if haves.Opened == 0 || blocks.Opened == 0 {
		t.Error("the flood never got a stream served: it tested nothing")
	}
	if peak > 1<<30 {
		t.Errorf("peak RSS %d MiB under the flood, want under 1 GiB", peak>>20)
	}
	if after > 300<<20 {
		t.Errorf("RSS %d MiB 15 s after the flood, want under 300 MiB", after>>20)
	}
	if r := run(t, repo, "status"); r.code != 0 {
		t.Errorf("status after the flood: exit %d\n%s", r.code, r.stderr)
	}
}
