package exchange_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/x/simlibp2p"
	"github.com/marcopolo/simnet"

	"github.com/pollen-p2p/pollen/blockstore"
	"github.com/pollen-p2p/pollen/chunker"
	"github.com/pollen-p2p/pollen/exchange"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

// The long fat link of issue 12: 100 Mbit/s each way, 80 ms round trip.
const (
	lfnRate = 100 * simlibp2p.OneMbps
	lfnRTT  = 80 * time.Millisecond
)

// TestLongFatLink is a benchmark, run by bench/lfn.sh with
// POLLEN_BENCH_LFN set to a file size in MiB (256 in issue 12) and
// skipped otherwise: a get between two hosts with on-disk stores over
// go-libp2p's simulated link (simnet, QUIC), against the link's rate, and
// one raw stream over the same link, the transport's ceiling. It prints
// "LFN what seconds" lines.
//
// The link runs in virtual time (testing/synctest): simnet moves every
// packet through goroutines and timers, which do not keep up with
// 100 Mbit/s in real time on a small machine, and in virtual time the
// figure does not depend on what else the machine is doing. The CPU's
// own time is free there: this measures windows, round trips and
// congestion control, not hashing or disks.
func TestLongFatLink(t *testing.T) {
	mib, err := strconv.Atoi(os.Getenv("POLLEN_BENCH_LFN"))
	if err != nil || mib <= 0 {
		t.Skip("a benchmark: bench/lfn.sh runs it, with POLLEN_BENCH_LFN=SIZE_MIB")
	}
	size := mib << 20
	src := filepath.Join(t.TempDir(), "data.bin")
	if err := testdata.WriteFile(src, 3, int64(size)); err != nil {
		t.Fatal(err)
	}
	t.Run("raw stream", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			hs := simnetPair(t)
			seeder, getter := hs[0], hs[1]
			seeder.SetStreamHandler(rawProto, func(s network.Stream) {
				defer s.Close()
				buf := make([]byte, 1<<20)
				for left := size; left > 0; left -= len(buf) {
					if _, err := s.Write(buf); err != nil {
						return
					}
				}
			})
			connected := lfnConnect(t, getter, seeder)
			start := time.Now()
			s, err := getter.NewStream(context.Background(), seeder.ID(), rawProto)
			if err != nil {
				t.Fatal(err)
			}
			n, err := io.Copy(io.Discard, s)
			if err != nil || n != int64(size) {
				t.Fatalf("read %d bytes: %v", n, err)
			}
			lfnReport(t, "raw-stream", size, connected, time.Since(start))
		})
	})
	t.Run("pollen", func(t *testing.T) {
		dirs := []string{t.TempDir(), t.TempDir()}
		synctest.Test(t, func(t *testing.T) {
			hs := simnetPair(t)
			var nodes [2]*node
			for i := range nodes {
				s, err := blockstore.Open(dirs[i], blockstore.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				nodes[i] = &node{h: hs[i], bs: s, ex: exchange.New(hs[i], s, exchange.Config{})}
				t.Cleanup(func() { nodes[i].ex.Close() })
			}
			seeder, getter := nodes[0], nodes[1]
			res, err := chunker.Import(context.Background(), seeder.bs, src, chunker.ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			connected := lfnConnect(t, getter.h, seeder.h)
			start := time.Now()
			if err := getter.ex.Fetch(context.Background(), res.Root, exchange.FetchOptions{}); err != nil {
				t.Fatal(err)
			}
			lfnReport(t, "pollen", size, connected, time.Since(start))
		})
	})
}

const rawProto = "/pollen-bench/raw/1"

// simnetPair makes two hosts on a simnet of lfnRate and lfnRTT, closed
// with the test (cleanups run inside the bubble, so every goroutine ends
// there).
func simnetPair(t *testing.T) [2]host.Host {
	t.Helper()
	// The latency is added once, between one host's uplink and the
	// other's downlink: half the round trip.
	nw := &simnet.Simnet{LatencyFunc: simnet.StaticLatency(lfnRTT / 2)}
	t.Cleanup(nw.Close) // after the hosts: cleanups run last first
	link := simnet.NodeBiDiLinkSettings{
		Downlink: simnet.LinkSettings{BitsPerSecond: lfnRate},
		Uplink:   simnet.LinkSettings{BitsPerSecond: lfnRate},
	}
	var hs [2]host.Host
	for i := range hs {
		h, err := libp2p.New(
			libp2p.ListenAddrStrings(fmt.Sprintf("/ip4/1.0.0.%d/udp/8000/quic-v1", i+1)),
			// Address discovery through identify stalls synctest (a TODO
			// in go-libp2p's own simlibp2p).
			libp2p.DisableIdentifyAddressDiscovery(),
			simlibp2p.QUICSimnet(nw, link),
		)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		hs[i] = h
	}
	nw.Start()
	return hs
}

// lfnConnect connects a to b and returns how long it took.
func lfnConnect(t *testing.T, a, b host.Host) time.Duration {
	t.Helper()
	start := time.Now()
	if err := a.Connect(context.Background(), peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
		t.Fatal(err)
	}
	return time.Since(start)
}

func lfnReport(t *testing.T, what string, size int, connect, transfer time.Duration) {
	t.Helper()
	t.Logf("LFN %s %.3f (connect %.3f s; %.1f%% of the link's rate)", what, transfer.Seconds(), connect.Seconds(),
		100*float64(size)*8/transfer.Seconds()/lfnRate)
}
