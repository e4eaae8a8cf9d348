package main_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pollen-p2p/pollen/internal/testdata"
)

// Every networked command in these tests stays on loopback with no DHT and
// no mDNS, so tests running side by side never meet.
var isolated = []string{"--listen", "/ip4/127.0.0.1/tcp/0", "--offline", "--no-mdns"}

// server is a running `pollen share` or `pollen seed`.
type server struct {
	t       testing.TB
	cmd     *exec.Cmd
	cid     string
	ticket  string
	page    string // a daemon's one-time login link
	addrs   []string
	stderr  *syncBuffer
	stopped bool

	mu      sync.Mutex
	tickets []string // every ticket printed, in order
	more    chan struct{}
}

// waitTicket returns the first ticket printed for which ok holds, or ends
// the test after d.
func (s *server) waitTicket(ok func(string) bool, d time.Duration) string {
	s.t.Helper()
	deadline := time.After(d)
	for {
		s.mu.Lock()
		for _, tk := range s.tickets {
			if ok(tk) {
				s.mu.Unlock()
				return tk
			}
		}
		more := s.more
		s.mu.Unlock()
		select {
		case <-more:
		case <-deadline:
			s.t.Fatalf("no such ticket in %s; stderr:\n%s", d, s.stderr)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer runs `pollen --repo repo ARGS...` and waits until it prints
// its addresses.
func startServer(t *testing.T, repo string, args ...string) *server {
	t.Helper()
	return startServerArgs(t, repo, append(args, isolated...))
}

// startServerArgs is startServer with exactly the given arguments.
func startServerArgs(t *testing.T, repo string, args []string) *server {
	t.Helper()
	return startServerCmd(t, exec.Command(pollenBin(t), append([]string{"--repo", repo}, args...)...))
}

// startServerCmd runs a pollen share or seed command line (perhaps
// inside a network namespace) and waits until it prints its addresses.
func startServerCmd(t testing.TB, cmd *exec.Cmd) *server {
	t.Helper()
	args := cmd.Args
	cmd.Env = append(os.Environ(), "POLLEN_REPO=")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, stderr: &syncBuffer{}, more: make(chan struct{})}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.kill() })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 2 {
				continue
			}
			switch f[0] {
			case "CID":
				if s.cid == "" {
					s.cid = f[1]
				}
			case "ticket":
				if s.ticket == "" {
					s.ticket = f[1]
				}
				s.mu.Lock()
				s.tickets = append(s.tickets, f[1])
				close(s.more)
				s.more = make(chan struct{})
				s.mu.Unlock()
			case "page":
				s.page = f[1]
			case "address":
				s.addrs = append(s.addrs, f[1])
				if len(s.addrs) == 1 {
					close(ready)
				}
			}
		}
	}()
	select {
	case <-ready:
		time.Sleep(100 * time.Millisecond) // the remaining address lines
	case <-time.After(60 * time.Second):
		t.Fatalf("pollen %v printed no address; stderr:\n%s", args, s.stderr)
	}
	return s
}

// stop interrupts the server as Ctrl-C would and returns the bytes it says
// it sent.
func (s *server) stop() int64 {
	s.t.Helper()
	s.stopped = true
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			s.t.Errorf("server exited with %v; stderr:\n%s", err, s.stderr)
		}
	case <-time.After(20 * time.Second):
		s.cmd.Process.Kill()
		s.t.Fatalf("server did not stop on Ctrl-C; stderr:\n%s", s.stderr)
	}
	m := regexp.MustCompile(`sent .* \((\d+) bytes\)`).FindStringSubmatch(s.stderr.String())
	if m == nil {
		s.t.Fatalf("server did not say what it sent:\n%s", s.stderr)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

func (s *server) kill() {
	if !s.stopped {
		s.stopped = true
		s.cmd.Process.Kill()
		s.cmd.Wait()
	}
}

func TestShareGetReseed(t *testing.T) {
	src := mixed(t)
	a := startServer(t, t.TempDir(), "share", src)
	if a.cid != mixedCID || !strings.HasPrefix(a.ticket, "pollen1") {
		t.Fatalf("share printed CID %q ticket %q", a.cid, a.ticket)
	}
	for _, addr := range a.addrs {
		if !strings.HasPrefix(addr, "/ip4/127.0.0.1/tcp/") || !strings.Contains(addr, "/p2p/12D3") {
			t.Errorf("address %q is not a full dialable multiaddr", addr)
		}
	}

	repoB := t.TempDir()
	outB := t.TempDir()
	r := run(t, repoB, append([]string{"get", a.ticket, "-o", outB}, isolated...)...).ok(t)
	if !strings.Contains(r.stderr, "(100%") || !strings.Contains(r.stderr, "from 1 peer") {
		t.Errorf("get showed no honest progress:\n%s", r.stderr)
	}
	assertSameTree(t, src, filepath.Join(outB, "mixed"), ".hidden-file")
	if sent := a.stop(); sent < 9_000_000 {
		t.Errorf("A says it sent %d bytes", sent)
	}

	// A is gone: C can only get it from B.
	b := startServer(t, repoB, "seed")
	if b.cid != mixedCID {
		t.Errorf("seed lists %q, want %s", b.cid, mixedCID)
	}
	outC := t.TempDir()
	run(t, t.TempDir(), append([]string{"get", mixedCID, "-o", outC, "--from", b.addrs[0], "--timeout", "20s"}, isolated...)...).ok(t)
	// A bare CID carries no name: the folder is written under the CID.
	assertSameTree(t, src, filepath.Join(outC, mixedCID), ".hidden-file")
	if sent := b.stop(); sent < 9_000_000 {
		t.Errorf("B reseeded only %d bytes", sent)
	}
}

// getter runs `pollen get` in the background, calling onLine for each
// stderr line.
func startGet(t *testing.T, repo string, onLine func(string), args ...string) (*exec.Cmd, *syncBuffer, chan error) {
	t.Helper()
	cmd := exec.Command(pollenBin(t), append(append([]string{"--repo", repo, "get"}, args...), isolated...)...)
	cmd.Env = append(os.Environ(), "POLLEN_REPO=")
	errPipe, _ := cmd.StderrPipe()
	out := &syncBuffer{}
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(errPipe)
		for sc.Scan() {
			out.Write([]byte(sc.Text() + "\n"))
			onLine(sc.Text())
		}
		io.Copy(io.Discard, errPipe)
		done <- cmd.Wait()
	}()
	return cmd, out, done
}

func bigFile(t testing.TB, mib int64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), fmt.Sprintf("big-%d.bin", mib))
	if err := testdata.WriteFile(path, 11, mib*testdata.MiB); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTwoSeedersOneKilled(t *testing.T) {
	src := bigFile(t, 200)
	s1 := startServer(t, t.TempDir(), "share", src)
	s2 := startServer(t, t.TempDir(), "share", src)
	out := t.TempDir()
	var once sync.Once
	_, log, done := startGet(t, t.TempDir(), func(line string) {
		if strings.Contains(line, "(25%") || strings.Contains(line, "(50%") {
			once.Do(func() { s2.kill() }) // one seeder dies mid-transfer
		}
	}, s1.ticket, "-o", out, "--from", s2.addrs[0], "--timeout", "30s")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("get failed after a seeder died: %v\n%s", err, log)
		}
	case <-time.After(3 * time.Minute):
		t.Fatalf("get did not finish:\n%s", log)
	}
	if !strings.Contains(log.String(), "from 2 peers") {
		t.Errorf("both seeders should have sent blocks:\n%s", log)
	}
	sameFile(t, src, filepath.Join(out, filepath.Base(src)))
	if sent := s1.stop(); sent == 0 {
		t.Error("the surviving seeder sent nothing")
	}
}

func sameFile(t *testing.T, want, got string) {
	t.Helper()
	a, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("%s differs from %s", got, want)
	}
}

// TestCrashLoop kills a get with SIGKILL at random moments, several times
// in a row, then lets it finish: the bytes are identical, verify is
// clean, and the last run receives no more than what was missing from
// disk when it started, plus 8 MiB (counted on the getter's side).
func TestCrashLoop(t *testing.T) {
	const mib = 384
	src := bigFile(t, mib)
	s := startServer(t, t.TempDir(), "share", src)
	repo, out := t.TempDir(), t.TempDir()
	part := filepath.Join(out, "."+filepath.Base(src)+".pollen-part")
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var present int64
	for kill := 0; kill < 3; kill++ {
		delay := time.Duration(50+rng.IntN(400)) * time.Millisecond
		var once sync.Once
		var cmd *exec.Cmd
		cmd, log, done := startGet(t, repo, func(line string) {
			if strings.HasPrefix(line, "get:") || strings.HasPrefix(line, "resuming:") {
				once.Do(func() { time.AfterFunc(delay, func() { cmd.Process.Signal(syscall.SIGKILL) }) })
			}
		}, s.ticket, "-o", out, "--timeout", "30s")
		if err := <-done; err == nil {
			t.Logf("run %d finished before its kill at %s", kill+1, delay)
			break
		}
		if _, err := os.Stat(filepath.Join(out, filepath.Base(src))); err == nil {
			// Killed after the file was complete and renamed (the rest of
			// it came within the delay): a file under its real name must
			// then be the whole of it, never a part.
			if _, err := os.Stat(part); err == nil {
				t.Errorf("the file and its temporary both there:\n%s", log)
			}
			sameFile(t, src, filepath.Join(out, filepath.Base(src)))
			t.Logf("run %d was killed at %s after the file was complete", kill+1, delay)
			break
		}
		now := onDisk(t, src, part)
		t.Logf("killed %s after the first line: %d MiB on disk", delay, now>>20)
		if now < present {
			t.Errorf("run %d lost what was on disk: %d bytes, %d before", kill+1, now, present)
		}
		present = now
	}
	r := run(t, repo, append([]string{"get", s.ticket, "-o", out, "--timeout", "30s"}, isolated...)...).ok(t)
	sameFile(t, src, filepath.Join(out, filepath.Base(src)))
	if leftovers, _ := filepath.Glob(filepath.Join(out, ".*.pollen-part")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
	if v := run(t, repo, "verify").ok(t); !strings.Contains(v.stdout+v.stderr, " 0 corrupt") {
		t.Errorf("verify after the crashes: %s%s", v.stdout, v.stderr)
	}
	m := regexp.MustCompile(`, ([0-9.]+) (MiB|KiB|B) received\)`).FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("the last run did not say what it received:\n%s", r.stderr)
	}
	got, _ := strconv.ParseFloat(m[1], 64)
	received := int64(got * map[string]float64{"MiB": 1 << 20, "KiB": 1 << 10, "B": 1}[m[2]])
	missing := int64(mib*testdata.MiB) - present
	t.Logf("last run: %d MiB missing, %d MiB received", missing>>20, received>>20)
	if received > missing+8*testdata.MiB {
		t.Errorf("the last run received %d MiB where %d MiB were missing (bound: +8 MiB)\n%s", received>>20, missing>>20, r.stderr)
	}
}

// onDisk counts the bytes of part, a killed get's temporary file, that
// hold src's bytes, by whole chunks (1 MiB: the leaves of a big file).
func onDisk(t *testing.T, src, part string) int64 {
	t.Helper()
	want, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(part)
	if err != nil {
		return 0
	}
	var n int64
	for off := 0; off < len(want); off += testdata.MiB {
		end := min(off+testdata.MiB, len(want))
		if end <= len(got) && bytes.Equal(want[off:end], got[off:end]) {
			n += int64(end - off)
		}
	}
	return n
}

func TestGetBadInput(t *testing.T) {
	repo := t.TempDir()
	r := run(t, repo, "get", "pollen1notaticket")
	r.fails(t, "bad ticket")
	if r.code != 2 {
		t.Errorf("malformed ticket: exit %d, want 2", r.code)
	}
	// A ticket whose peer is gone: a clear error, quickly, naming it.
	s := startServer(t, t.TempDir(), "share", mixed(t)+"/one-byte.bin")
	ticket, addr := s.ticket, s.addrs[0]
	s.kill()
	start := time.Now()
	r = run(t, repo, append([]string{"get", ticket, "-o", t.TempDir()}, isolated...)...)
	r.fails(t, "could not reach any peer: tried 12D3")
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("unreachable ticket took %s to fail", d)
	}
	r = run(t, repo, append([]string{"get", mixedCID, "--from", addr, "--timeout", "3s"}, isolated...)...)
	r.fails(t, "could not reach any peer")
	run(t, repo, "get", mixedCID, "--from", "/ip4/127.0.0.1/tcp/1").fails(t, "is not a peer multiaddr")
	_ = context.Background
}

// TestFindProvidersOnPrivateDHT: the getter knows only the CID and a DHT
// bootstrap node that does not have the content; the DHT leads it to the
// sharer.
func TestFindProvidersOnPrivateDHT(t *testing.T) {
	dhtOnly := []string{"--listen", "/ip4/127.0.0.1/tcp/0", "--no-mdns"}
	boot := startServerArgs(t, t.TempDir(), append([]string{"seed", "--bootstrap", "none"}, dhtOnly...))
	a := startServerArgs(t, t.TempDir(), append([]string{"share", mixed(t) + "/several-MiB.bin", "--bootstrap", boot.addrs[0]}, dhtOnly...))
	time.Sleep(2 * time.Second) // the provider record reaches the bootstrap node
	out := t.TempDir()
	r := run(t, t.TempDir(), append([]string{"get", a.cid, "-o", out, "--bootstrap", boot.addrs[0], "--timeout", "30s"}, dhtOnly...)...).ok(t)
	sameFile(t, mixed(t)+"/several-MiB.bin", filepath.Join(out, a.cid))
	if !strings.Contains(r.stderr, "from 1 peer") {
		t.Errorf("get output:\n%s", r.stderr)
	}
}

// A get writes each fetched byte once: the repo points at the exported
// file for most of the content rather than keeping a copy. The file stays
// the user's: edited or removed, the blocks it held are fetched again by
// the next get, never served changed, and verify names them.
func TestGetWritesOnceAndSurvivesEdits(t *testing.T) {
	const mib = 48
	src := bigFile(t, mib)
	a := startServer(t, t.TempDir(), "share", src)
	repo := t.TempDir()
	out1 := t.TempDir()
	run(t, repo, append([]string{"get", a.ticket, "-o", out1, "--timeout", "30s"}, isolated...)...).ok(t)
	got := filepath.Join(out1, filepath.Base(src))
	sameFile(t, src, got)
	if used := diskUsage(t, repo); used > mib*testdata.MiB*3/4 {
		t.Errorf("the repo holds %d MiB after getting %d MiB: the content was stored twice", used>>20, mib)
	}

	// The user edits the file in place, then removes another copy's worth:
	// a block in the middle changes.
	f, err := os.OpenFile(got, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("edited by its owner"), 20*testdata.MiB+100)
	f.Close()
	v := run(t, repo, "verify")
	if !strings.Contains(v.stdout+v.stderr, "1 corrupt") || !strings.Contains(v.stdout, "changed "+strconv.Quote(got)) {
		t.Errorf("verify after the file was edited does not name it: %s%s", v.stdout, v.stderr)
	}
	out2 := t.TempDir()
	run(t, repo, append([]string{"get", a.ticket, "-o", out2, "--timeout", "30s"}, isolated...)...).ok(t)
	sameFile(t, src, filepath.Join(out2, filepath.Base(src)))

	// Both exported files removed: ls names the one the store pointed
	// into (the second get's: a block is found where it was written
	// last), and the next get fetches what they held.
	os.Remove(got)
	os.Remove(filepath.Join(out2, filepath.Base(src)))
	ls := run(t, repo, "ls").ok(t)
	if f := filepath.Join(out2, filepath.Base(src)); !strings.Contains(ls.stderr, "missing "+strconv.Quote(f)) {
		t.Errorf("ls does not name the removed %s:\n%s", f, ls.stderr)
	}
	out3 := t.TempDir()
	run(t, repo, append([]string{"get", a.ticket, "-o", out3, "--timeout", "30s"}, isolated...)...).ok(t)
	sameFile(t, src, filepath.Join(out3, filepath.Base(src)))
}
