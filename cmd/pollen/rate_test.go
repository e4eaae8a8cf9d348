package main_test

import (
	"path/filepath"
	"testing"
	"time"
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
