package main_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pollen-p2p/pollen/internal/netlab"
)

// TestRateLimits: a share limited to 5 Mbit/s upload, over TCP and over
// QUIC, and a get limited to 5 Mbit/s download: the getter sees 5 Mbit/s
// within 10% (its clock starts before the connection, so a little
// under).
func TestRateLimits(t *testing.T) {
	const mbit = 5
	src := bigFile(t, 4)
	for _, tc := range []struct {
		name        string
		listen      string
		share, gets []string
	}{
		{"upload over TCP", "/ip4/127.0.0.1/tcp/0", []string{"--max-up", "5Mbit"}, nil},
		{"upload over QUIC", "/ip4/127.0.0.1/udp/0/quic-v1", []string{"--max-up", "5Mbit"}, nil},
		{"download over TCP", "/ip4/127.0.0.1/tcp/0", nil, []string{"--max-down", "5Mbit"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			net := []string{"--listen", tc.listen, "--offline", "--no-mdns"}
			s := startServerArgs(t, t.TempDir(), append(append([]string{"share", src}, tc.share...), net...))
			out := t.TempDir()
			begin := time.Now()
			run(t, t.TempDir(), append(append([]string{"get", s.ticket, "-o", out}, tc.gets...), net...)...).ok(t)
			took := time.Since(begin)
			sameFile(t, src, filepath.Join(out, filepath.Base(src)))
			seen := float64(4<<20) * 8 / took.Seconds() / 1e6
			t.Logf("%s: 4 MiB in %s: %.2f Mbit/s", tc.name, took.Round(time.Millisecond), seen)
			if seen > mbit*1.10 || seen < mbit*0.90 {
				t.Errorf("%.2f Mbit/s, want %d ± 10%%", seen, mbit)
			}
		})
	}
}

// TestRateLimitsBetweenNamespaces: the same limits between two hosts of
// the lab's internet, each in its own network namespace, so the bytes
// cross a real link (a veth pair and a router) and not loopback.
func TestRateLimitsBetweenNamespaces(t *testing.T) {
	const mbit = 5
	src := bigFile(t, 4)
	lab := netlab.New(t)
	a, b := lab.Public("sharer"), lab.Public("getter")
	for _, tc := range []struct {
		name   string
		listen string
	}{
		{"upload over TCP", "/ip4/0.0.0.0/tcp/4011"},
		{"upload over QUIC", "/ip4/0.0.0.0/udp/4012/quic-v1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			net := []string{"--listen", tc.listen, "--offline", "--no-mdns"}
			s := startServerCmd(t, a.Command(context.Background(), pollenBin(t),
				append([]string{"--repo", t.TempDir(), "share", src, "--max-up", "5Mbit"}, net...)...))
			var addr string
			for _, ad := range s.addrs {
				if strings.HasPrefix(ad, "/ip4/"+a.Addr().String()+"/") {
					addr = ad
				}
			}
			if addr == "" {
				t.Fatalf("no address on the lab's internet: %v", s.addrs)
			}
			out := t.TempDir()
			begin := time.Now()
			res, err := labGet(t, b, append([]string{s.cid, "--from", addr, "-o", out}, net...)...)
			took := time.Since(begin)
			if err != nil {
				t.Fatalf("get: %v\n%s", err, res)
			}
			sameFile(t, src, filepath.Join(out, s.cid))
			s.stop()
			seen := float64(4<<20) * 8 / took.Seconds() / 1e6
			t.Logf("%s: 4 MiB in %s: %.2f Mbit/s", tc.name, took.Round(time.Millisecond), seen)
			if seen > mbit*1.10 || seen < mbit*0.90 {
				t.Errorf("%.2f Mbit/s, want %d ± 10%%", seen, mbit)
			}
		})
	}
}
