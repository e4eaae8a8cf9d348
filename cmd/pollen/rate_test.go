package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
			checkRate(t, tc.name, 4<<20, took, mbit, 0.10)
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
			checkRate(t, tc.name, 4<<20, took, mbit, 0.10)
		})
	}
}

// TestPeerUploadCap: a share capped at 5 Mbit/s a peer and not in all
// sends two getters at once 5 Mbit/s each (± 15%: a correctness test on
// a noisy machine, not a benchmark).
func TestPeerUploadCap(t *testing.T) {
	const mbit = 5
	src := bigFile(t, 3)
	s := startServer(t, t.TempDir(), "share", src, "--max-up-peer", "5Mbit")
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			out := t.TempDir()
			begin := time.Now()
			r := run(t, t.TempDir(), append([]string{"get", s.ticket, "-o", out}, isolated...)...)
			took := time.Since(begin)
			if r.code != 0 {
				t.Errorf("getter %d: exit %d: %s", i, r.code, r.stderr)
				return
			}
			sameFile(t, src, filepath.Join(out, filepath.Base(src)))
			checkRate(t, fmt.Sprintf("getter %d", i), 3<<20, took, mbit, 0.15)
		})
	}
	wg.Wait()
}

// TestLimitsCommand: 'pollen limits' shows and sets a daemon's limits,
// which it saves for its next start; a daemon's flags override them for
// that run; without a daemon, setting is refused and showing shows what
// is saved.
func TestLimitsCommand(t *testing.T) {
	repo := t.TempDir()
	if r := run(t, repo, "limits").ok(t); !strings.Contains(r.stdout, "up:       none") || !strings.Contains(r.stderr, "no daemon running") {
		t.Errorf("limits without a daemon:\n%s\n%s", r.stdout, r.stderr)
	}
	run(t, repo, "limits", "--up", "5MB").fails(t, "no daemon is running")
	if r := run(t, repo, "limits", "--up", "fast"); r.code != 2 || !strings.Contains(r.stderr, "want a rate") {
		t.Errorf("a bad rate: exit %d, %s", r.code, r.stderr)
	}

	d, _ := startDaemon(t, repo)
	r := run(t, repo, "limits", "--up", "5MB", "--peer-up", "1Mbit").ok(t)
	want := "up:       5.0 MB/s (40 Mbit/s)\ndown:     none\npeer up:  125 kB/s (1 Mbit/s)\n"
	if !strings.HasPrefix(r.stdout, want) {
		t.Errorf("limits set printed:\n%s\nwant:\n%s", r.stdout, want)
	}
	if r := run(t, repo, "limits").ok(t); !strings.HasPrefix(r.stdout, want) {
		t.Errorf("limits printed:\n%s", r.stdout)
	}
	d.stop()
	if r := run(t, repo, "limits").ok(t); !strings.HasPrefix(r.stdout, want) {
		t.Errorf("the saved limits:\n%s", r.stdout)
	}

	// A flag overrides a saved limit for one run, and saves nothing.
	d, _ = startDaemonArgs(t, repo, "--max-up", "0", "--max-down", "2MiB")
	if r := run(t, repo, "limits").ok(t); !strings.HasPrefix(r.stdout, "up:       none\ndown:     2.1 MB/s (") || !strings.Contains(r.stdout, "peer up:  125 kB/s") {
		t.Errorf("limits with flags over the saved ones:\n%s", r.stdout)
	}
	d.stop()
	if r := run(t, repo, "limits").ok(t); !strings.HasPrefix(r.stdout, want) {
		t.Errorf("a run's flags changed the saved limits:\n%s", r.stdout)
	}
}

// TestLimitChangesWhileTransferring: a daemon's upload limit changed
// through the API while another daemon fetches from it: the getter's
// download rate, as its API measures it on the wire, follows (± 25%),
// and the limit taken off lets the rest come at once.
func TestLimitChangesWhileTransferring(t *testing.T) {
	src := bigFile(t, 32)
	repoA, repoB := t.TempDir(), t.TempDir()
	_, apiA := startDaemon(t, repoA)
	downloads := t.TempDir()
	_, apiB := startDaemonArgs(t, repoB, "--downloads", downloads)
	authA := map[string]string{"Authorization": "Bearer " + apiA.Token}
	authB := map[string]string{"Authorization": "Bearer " + apiB.Token}
	code, sh := call(t, "POST", apiA.URL+"/api/v1/shares", `{"path": "`+src+`"}`, authA)
	if code != http.StatusOK {
		t.Fatalf("share: %d %v", code, sh)
	}
	run(t, repoA, "limits", "--up", "16Mbit").ok(t)
	if code, body := call(t, "POST", apiB.URL+"/api/v1/get", `{"ref": "`+sh["ticket"].(string)+`"}`, authB); code != http.StatusOK {
		t.Fatalf("get: %d %v", code, body)
	}
	// measure polls B's rates every second, as the page does every two,
	// for a phase's seconds, and returns the last: the rate over the last
	// five seconds, all within the phase.
	measure := func(seconds int) (down, blocks float64) {
		for range seconds {
			time.Sleep(time.Second)
			_, st := call(t, "GET", apiB.URL+"/api/v1/limits", "", authB)
			m := st["measured"].(map[string]any)
			down, blocks = m["down"].(float64), m["block_down"].(float64)
		}
		return down, blocks
	}
	for _, phase := range []struct {
		mbit float64
		put  string
	}{{16, ""}, {4, `{"up": 500000}`}} {
		if phase.put != "" {
			if code, body := call(t, "PUT", apiA.URL+"/api/v1/limits", phase.put, authA); code != http.StatusOK {
				t.Fatalf("PUT limits: %d %v", code, body)
			}
		}
		down, blocks := measure(6)
		seen := down * 8 / 1e6
		// Blocks count as they arrive, a MiB at a time: over five seconds
		// their rate is lumpy; the wire's is not.
		t.Logf("A's upload limit %g Mbit/s: B receives %.2f Mbit/s on the wire, %.2f Mbit/s of blocks", phase.mbit, seen, blocks*8/1e6)
		if seen < phase.mbit*0.75 || seen > phase.mbit*1.25 {
			t.Errorf("limit %g Mbit/s: B receives %.2f Mbit/s, want ± 25%%", phase.mbit, seen)
		}
	}
	call(t, "PUT", apiA.URL+"/api/v1/limits", `{"up": 0}`, authA)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var list []struct{ State, Error string }
		req, _ := http.NewRequest("GET", apiB.URL+"/api/v1/transfers", nil)
		req.Header.Set("Authorization", authB["Authorization"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if len(list) == 1 && list[0].State != "running" {
			if list[0].State != "done" {
				t.Fatalf("get: %s %s", list[0].State, list[0].Error)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the get did not end within 30 s of the limit going: %+v", list)
		}
		time.Sleep(200 * time.Millisecond)
	}
	sameFile(t, src, filepath.Join(downloads, filepath.Base(src)))
	_, st := call(t, "GET", apiB.URL+"/api/v1/limits", "", authB)
	m := st["measured"].(map[string]any)
	wire, blocks := m["received"].(float64), m["block_received"].(float64)
	t.Logf("B received %.0f bytes on the wire for %.0f of blocks: %.2f%% more", wire, blocks, 100*(wire-blocks)/blocks)
	if blocks < 32<<20 || blocks > 32<<20+64<<10 || wire < blocks || wire > blocks*1.05 { // blocks: the file's and its top node
		t.Errorf("B received %.0f bytes on the wire for %.0f of blocks", wire, blocks)
	}
	if _, err := os.Stat(filepath.Join(repoA, "limits.json")); err != nil {
		t.Errorf("the limits were not saved: %v", err)
	}
}

// checkRate says what rate n bytes in took make, and fails the test
// outside mbit ± tol (a fraction).
func checkRate(t *testing.T, what string, n int64, took time.Duration, mbit, tol float64) {
	t.Helper()
	seen := float64(n) * 8 / took.Seconds() / 1e6
	t.Logf("%s: %d bytes in %s: %.2f Mbit/s", what, n, took.Round(time.Millisecond), seen)
	if seen > mbit*(1+tol) || seen < mbit*(1-tol) {
		t.Errorf("%s: %.2f Mbit/s, want %g ± %.0f%%", what, seen, mbit, tol*100)
	}
}
