package main_test

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pollen-p2p/pollen/ui"
)

// apiGet decodes the answer of a GET on the daemon's API into v.
func apiGet(t *testing.T, api apiInfo, path string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", api.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+api.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// waitTransfer polls the daemon's transfers until one satisfies ok.
func waitTransfer(t *testing.T, api apiInfo, what string, ok func(ui.Transfer) bool) ui.Transfer {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var list []ui.Transfer
		apiGet(t, api, "/api/v1/transfers", &list)
		for _, tr := range list {
			if ok(tr) {
				return tr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no transfer %s: %+v", what, list)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// received is the block bytes the daemon received from peers since it
// started.
func received(t *testing.T, api apiInfo) int64 {
	t.Helper()
	var peers []ui.Peer
	apiGet(t, api, "/api/v1/peers", &peers)
	var n int64
	for _, p := range peers {
		n += p.In
	}
	return n
}

// getInBackground runs 'pollen get' through the daemon of repo, which
// follows the get, and returns at once.
func getInBackground(t *testing.T, repo string, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(pollenBin(t), append([]string{"--repo", repo, "get"}, args...)...)
	cmd.Env = append(os.Environ(), "POLLEN_REPO=")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, out
}

// stopDaemon stops a daemon with SIGTERM, as a service manager does.
func stopDaemon(t *testing.T, d *server) {
	t.Helper()
	d.stopped = true
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("daemon exited with %v; stderr:\n%s", err, d.stderr)
		}
	case <-time.After(30 * time.Second):
		d.cmd.Process.Kill()
		t.Fatalf("daemon did not stop on SIGTERM; stderr:\n%s", d.stderr)
	}
}

// slowSeeder shares a file of mib MiB at 8 MiB/s, so that a get of it
// lasts a few seconds.
func slowSeeder(t *testing.T, mib int64) (*server, string) {
	src := bigFile(t, mib)
	return startServerArgs(t, t.TempDir(), append([]string{"share", src, "--max-up", "8MiB"}, isolated...)), src
}

// blockMargin is what a get may fetch beyond the content: the blocks
// under way when it was paused, dropped, and fetched again.
const blockMargin = 4 << 20

// TestPauseResumeAcrossDaemonRestart: a get through the daemon, paused
// from the command line, moves no bytes while paused, is still paused
// after the daemon is stopped and started again (and a GC), and once
// resumed, and the daemon stopped and started again while it runs, writes
// the file whole, having fetched hardly more than the file.
func TestPauseResumeAcrossDaemonRestart(t *testing.T) {
	const mib = 32
	seeder, src := slowSeeder(t, mib)
	repo, out := t.TempDir(), t.TempDir()
	d, api := startDaemon(t, repo)
	follower, followed := getInBackground(t, repo, seeder.ticket, "-o", out)

	tr := waitTransfer(t, api, "a quarter in", func(tr ui.Transfer) bool { return tr.Total > 0 && tr.Done*4 > tr.Total })
	if tr.State != "running" {
		t.Fatalf("the get is %s before it could be paused", tr.State)
	}
	id := strconv.Itoa(tr.ID)
	if p := run(t, repo, "pause", id).ok(t); !strings.Contains(p.stdout, id+"\tpaused\t"+filepath.Base(src)) {
		t.Errorf("pause printed %q", p.stdout)
	}
	if err := follower.Wait(); err == nil || !strings.Contains(followed.String(), "get "+id+" paused; 'pollen resume "+id+"' goes on with it") {
		t.Errorf("the get that followed it: %v\n%s", err, followed)
	}

	// Paused: nothing moves (what was under way has arrived or was
	// dropped by now: the pause answers once the get has stopped).
	before, done := received(t, api), waitTransfer(t, api, "paused", func(tr ui.Transfer) bool { return tr.State == "paused" }).Done
	time.Sleep(2 * time.Second)
	if after := received(t, api); after != before {
		t.Errorf("%d bytes arrived while paused", after-before)
	}
	t.Logf("paused at %d of %d bytes, %d received", done, int64(mib)<<20, before)
	if done >= int64(mib)<<20 {
		t.Fatal("the get finished before it was paused")
	}

	stopDaemon(t, d)
	d, api = startDaemon(t, repo)
	ls := run(t, repo, "transfers").ok(t)
	if !strings.Contains(ls.stdout, "ID") || !hasRow(ls.stdout, id, "paused", filepath.Base(src)) {
		t.Errorf("after a restart, transfers lists:\n%s", ls.stdout)
	}
	time.Sleep(time.Second)
	if n := received(t, api); n != 0 {
		t.Errorf("a paused get fetched %d bytes after the restart", n)
	}

	// GC keeps what arrived of a paused get.
	if gc := run(t, repo, "gc").ok(t); !strings.Contains(gc.stdout, "removed 0 blocks") {
		t.Errorf("GC while a get is paused: %s", gc.stdout)
	}

	if r := run(t, repo, "resume", id).ok(t); !strings.Contains(r.stdout, id+"\trunning\t") {
		t.Errorf("resume printed %q", r.stdout)
	}
	// A get running when the daemon stops runs again when it starts.
	tr = waitTransfer(t, api, "half in", func(tr ui.Transfer) bool { return tr.Total > 0 && tr.Done*2 > tr.Total })
	if tr.State != "running" {
		t.Fatalf("the resumed get is %s before the daemon could be stopped", tr.State)
	}
	stopDaemon(t, d)
	d, api = startDaemon(t, repo)
	final := waitTransfer(t, api, "done", func(tr ui.Transfer) bool { return tr.State != "running" })
	if final.State != "done" {
		t.Fatalf("the resumed get ended %s: %s", final.State, final.Error)
	}
	sameFile(t, src, filepath.Join(out, filepath.Base(src)))
	if ls := run(t, repo, "transfers").ok(t); !hasRow(ls.stdout, id, "done", filepath.Base(src)) {
		t.Errorf("after the resumed get, transfers lists:\n%s", ls.stdout)
	}
	sent := seeder.stop()
	t.Logf("seeder sent %d bytes for %d bytes of content", sent, int64(mib)<<20)
	if sent > int64(mib)<<20+blockMargin {
		t.Errorf("the resumed get fetched again what it had: %d bytes sent for %d", sent, int64(mib)<<20)
	}
	// Done: not recorded, so not taken up again.
	stopDaemon(t, d)
	startDaemon(t, repo)
	if ls := run(t, repo, "transfers").ok(t); strings.Contains(ls.stdout, filepath.Base(src)) {
		t.Errorf("a done get is taken up again after a restart:\n%s", ls.stdout)
	}
}

// TestCancelForgets: a canceled get stops, is not taken up after a
// restart, leaves no file under its name, and a later get of the same
// ticket fetches only what the canceled one had not.
func TestCancelForgets(t *testing.T) {
	const mib = 32
	seeder, src := slowSeeder(t, mib)
	repo, out := t.TempDir(), t.TempDir()
	d, api := startDaemon(t, repo)
	code, body := call(t, "POST", api.URL+"/api/v1/get", `{"ref": "`+seeder.ticket+`", "dir": "`+out+`"}`,
		map[string]string{"Authorization": "Bearer " + api.Token})
	if code != http.StatusOK {
		t.Fatalf("get through the API: %d %v", code, body)
	}
	id := strconv.Itoa(int(body["id"].(float64)))
	waitTransfer(t, api, "a quarter in", func(tr ui.Transfer) bool { return tr.Total > 0 && tr.Done*4 > tr.Total })
	if c := run(t, repo, "cancel", id).ok(t); !strings.Contains(c.stdout, id+"\tcanceled\t") {
		t.Errorf("cancel printed %q", c.stdout)
	}
	run(t, repo, "pause", id).fails(t, "get "+id+" is canceled: nothing to pause")
	run(t, repo, "resume", "99").fails(t, "no transfer 99")
	if _, err := os.Stat(filepath.Join(out, filepath.Base(src))); !os.IsNotExist(err) {
		t.Errorf("a canceled get left its file: %v", err)
	}

	stopDaemon(t, d)
	d, _ = startDaemon(t, repo)
	ls := run(t, repo, "transfers").ok(t)
	if strings.Contains(ls.stdout, filepath.Base(src)) {
		t.Errorf("a canceled get is taken up again after a restart:\n%s", ls.stdout)
	}
	run(t, repo, "get", seeder.ticket, "-o", out).ok(t)
	sameFile(t, src, filepath.Join(out, filepath.Base(src)))
	sent := seeder.stop()
	t.Logf("seeder sent %d bytes for %d bytes of content", sent, int64(mib)<<20)
	if sent > int64(mib)<<20+blockMargin {
		t.Errorf("the get after a cancel fetched again what arrived: %d bytes sent for %d", sent, int64(mib)<<20)
	}

	// Without a daemon, each says so in one line.
	stopDaemon(t, d)
	for _, args := range [][]string{{"transfers"}, {"pause", id}, {"resume", id}, {"cancel", id}} {
		run(t, repo, args...).fails(t, "no daemon running")
	}
}

// hasRow reports whether 'pollen transfers' printed a row for the
// transfer id in state, named name.
func hasRow(out, id, state, name string) bool {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == id && f[1] == state && f[2] == name {
			return true
		}
	}
	return false
}
