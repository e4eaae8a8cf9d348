package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

type apiInfo struct {
	URL   string `json:"url"`
	Token string `json:"token"`
}

// startDaemon runs `pollen daemon` on loopback and returns it with the
// contents of its api.json.
func startDaemon(t *testing.T, repo string) (*server, apiInfo) {
	t.Helper()
	return startDaemonArgs(t, repo)
}

func startDaemonArgs(t *testing.T, repo string, args ...string) (*server, apiInfo) {
	t.Helper()
	s := startServerArgs(t, repo, append(append([]string{"daemon", "--api", "127.0.0.1:0"}, args...), isolated...))
	var info apiInfo
	path := filepath.Join(repo, "api.json")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("daemon wrote no api.json: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("api.json mode %v, want 0600", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &info); err != nil || !strings.HasPrefix(info.URL, "http://127.0.0.1:") || len(info.Token) < 32 {
		t.Fatalf("api.json = %s (%v)", b, err)
	}
	return s, info
}

func call(t *testing.T, method, url string, body string, hdr map[string]string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestAPIGuards(t *testing.T) {
	_, api := startDaemon(t, t.TempDir())
	auth := map[string]string{"Authorization": "Bearer " + api.Token}
	cases := []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"no token", nil, http.StatusUnauthorized},
		{"wrong token", map[string]string{"Authorization": "Bearer nope"}, http.StatusUnauthorized},
		{"foreign host", map[string]string{"Authorization": auth["Authorization"], "Host": "evil.example:80"}, http.StatusForbidden},
		{"foreign origin", map[string]string{"Authorization": auth["Authorization"], "Origin": "http://evil.example"}, http.StatusForbidden},
		{"token", auth, http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := call(t, "GET", api.URL+"/api/v1/status", "", tc.hdr)
			if code != tc.want {
				t.Errorf("status %d, want %d (%v)", code, tc.want, body)
			}
			if code != http.StatusOK && body["error"] == "" {
				t.Errorf("refusal without a readable message: %v", body)
			}
		})
	}
	code, body := call(t, "POST", api.URL+"/api/v1/resolve", `{"ref": "pollen1garbage"}`, auth)
	if code != http.StatusBadRequest || !strings.Contains(body["error"].(string), "bad ticket") {
		t.Errorf("bad ticket: %d %v", code, body)
	}
	code, body = call(t, "POST", api.URL+"/api/v1/shares", `{"path": "/no/such/folder"}`, auth)
	if code != http.StatusNotFound || body["kind"] != "not found" || !strings.Contains(body["error"].(string), "no such file or directory") {
		t.Errorf("missing path: %d %v", code, body)
	}
}

func TestCLIUsesRunningDaemon(t *testing.T) {
	repo := t.TempDir()
	d, api := startDaemon(t, repo)
	auth := map[string]string{"Authorization": "Bearer " + api.Token}
	src := mixed(t) + "/several-MiB.bin"
	code, body := call(t, "POST", api.URL+"/api/v1/shares", `{"path": "`+src+`"}`, auth)
	if code != http.StatusOK || !strings.HasPrefix(body["ticket"].(string), "pollen1") {
		t.Fatalf("share by API: %d %v", code, body)
	}
	// The daemon holds the repo; the command line asks it.
	st := run(t, repo, "status").ok(t)
	if !strings.Contains(st.stdout, "daemon:  running") || !strings.Contains(st.stdout, "shared:  1") {
		t.Errorf("status with a daemon:\n%s", st.stdout)
	}
	ls := run(t, repo, "ls").ok(t)
	if !strings.Contains(ls.stdout, "several-MiB.bin") || !strings.Contains(ls.stdout, body["cid"].(string)) {
		t.Errorf("ls with a daemon:\n%s", ls.stdout)
	}
	// `pollen share` hands the path to the running daemon and returns.
	sh := run(t, repo, "share", mixed(t)+"/one-byte.bin").ok(t)
	if !strings.Contains(sh.stdout, "ticket  pollen1") || !strings.Contains(sh.stderr, "shared by the running daemon") {
		t.Errorf("share with a daemon:\n%s\n%s", sh.stdout, sh.stderr)
	}
	// Others fetch from the daemon: a plain get, and a get through a
	// second daemon that owns the getter's repo.
	out := t.TempDir()
	run(t, t.TempDir(), append([]string{"get", body["ticket"].(string), "-o", out}, isolated...)...).ok(t)
	sameFile(t, src, filepath.Join(out, "several-MiB.bin"))
	repoC, outC := t.TempDir(), t.TempDir()
	startDaemon(t, repoC)
	g := run(t, repoC, "get", body["ticket"].(string), "-o", outC).ok(t)
	if !strings.Contains(g.stdout, "saved "+filepath.Join(outC, "several-MiB.bin")+" (by the daemon") || !strings.Contains(g.stderr, "(100%") {
		t.Errorf("get through a daemon:\n%s\n%s", g.stdout, g.stderr)
	}
	sameFile(t, src, filepath.Join(outC, "several-MiB.bin"))
	if pg := run(t, repo, "page").ok(t); !strings.HasPrefix(pg.stdout, api.URL+"/#code=") || strings.Contains(pg.stdout, api.Token) {
		t.Errorf("page with a daemon: %q", pg.stdout)
	}
	if id := run(t, repo, "id").ok(t); !strings.Contains(id.stdout, "address /ip4/127.0.0.1/tcp/") {
		t.Errorf("id with a daemon:\n%s", id.stdout)
	}
	// add, cat and verify work beside the daemon, through it.
	add := run(t, repo, "add", mixed(t)+"/ünïcødé 日本語.txt").ok(t)
	f := strings.Fields(add.stdout)
	if len(f) < 3 || f[0] != "added" {
		t.Fatalf("add with a daemon: %q %q", add.stdout, add.stderr)
	}
	if q := run(t, repo, "add", "-q", mixed(t)+"/ünïcødé 日本語.txt").ok(t); strings.TrimSpace(q.stdout) != f[1] || q.stderr != "" {
		t.Errorf("add -q with a daemon: %q %q", q.stdout, q.stderr)
	}
	cat := run(t, repo, "cat", f[1]).ok(t)
	if want, _ := os.ReadFile(mixed(t) + "/ünïcødé 日本語.txt"); cat.stdout != string(want) {
		t.Errorf("cat with a daemon gave %d bytes, want %d", len(cat.stdout), len(want))
	}
	run(t, repo, "cat", "bafkreigicxwvav6t72kj2gdczzdhpzrljspk5bgzaknuhjxyn5smvbjdru").fails(t, "not in the local store")
	folder := filepath.Join(t.TempDir(), "folder")
	os.MkdirAll(folder, 0o755)
	os.WriteFile(filepath.Join(folder, "x.txt"), []byte("in a folder"), 0o644)
	fc := strings.TrimSpace(run(t, repo, "add", "-q", folder).ok(t).stdout)
	run(t, repo, "cat", fc).fails(t, "is a folder")
	run(t, repo, "rm", fc).ok(t)
	if v := run(t, repo, "verify").ok(t); !strings.Contains(v.stdout, " 0 corrupt") {
		t.Errorf("verify with a daemon: %s", v.stdout)
	}
	run(t, repo, "rm", f[1]).ok(t)
	run(t, repo, "rm", body["cid"].(string)).ok(t)
	if gc := run(t, repo, "gc").ok(t); !strings.Contains(gc.stdout, "removed 10 blocks (5.0 MiB), kept 1") {
		t.Errorf("gc with a daemon: %s", gc.stdout)
	}
	d.stop()
	if _, err := os.Stat(filepath.Join(repo, "api.json")); !os.IsNotExist(err) {
		t.Errorf("api.json left after the daemon stopped: %v", err)
	}
	run(t, repo, "page").fails(t, "no daemon running")
	// Without a daemon the command line opens the repo itself.
	if st := run(t, repo, "status").ok(t); strings.Contains(st.stdout, "daemon:") || !strings.Contains(st.stdout, "shared:  1") {
		t.Errorf("status without a daemon:\n%s", st.stdout)
	}
}

func TestDaemonKilledDuringGet(t *testing.T) {
	const mib = 512
	src := bigFile(t, mib)
	seeder := startServer(t, t.TempDir(), "share", src)
	repo, out := t.TempDir(), t.TempDir()
	d, api := startDaemon(t, repo)
	auth := map[string]string{"Authorization": "Bearer " + api.Token}
	code, body := call(t, "POST", api.URL+"/api/v1/get", `{"ref": "`+seeder.ticket+`", "dir": "`+out+`"}`, auth)
	if code != http.StatusOK {
		t.Fatalf("get through the API: %d %v", code, body)
	}
	// Kill -9 the daemon once a third has arrived.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var list []struct {
			Done, Total int64
			State       string
		}
		req, _ := http.NewRequest("GET", api.URL+"/api/v1/transfers", nil)
		req.Header.Set("Authorization", auth["Authorization"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		if len(list) == 1 && list[0].Total > 0 && list[0].Done*3 > list[0].Total {
			if list[0].State == "done" {
				t.Fatal("the get finished before the daemon could be killed")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the get made no progress: %+v", list)
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.cmd.Process.Signal(syscall.SIGKILL)
	d.cmd.Wait()
	d.stopped = true

	// The repo opens, nothing committed is damaged, the get resumes.
	v := run(t, repo, "verify").ok(t)
	if !strings.Contains(v.stdout, " 0 corrupt") {
		t.Errorf("verify after kill -9: %s", v.stdout)
	}
	startDaemon(t, repo)
	run(t, repo, "get", seeder.ticket, "-o", out).ok(t)
	sameFile(t, src, filepath.Join(out, filepath.Base(src)))
	sent := seeder.stop()
	t.Logf("seeder sent %d bytes for %d bytes of content", sent, int64(mib)<<20)
	if float64(sent) > 1.1*float64(int64(mib)<<20) {
		t.Errorf("the resumed get fetched again what it had: %d bytes sent for %d", sent, int64(mib)<<20)
	}
}

func TestMetrics(t *testing.T) {
	_, api := startDaemon(t, t.TempDir())
	req, _ := http.NewRequest("GET", api.URL+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/metrics without the token: %d", resp.StatusCode)
	}
	req.Header.Set("Authorization", "Bearer "+api.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"pollen_blocks_served_total", "pollen_bitswap_bytes_total", "pollen_transfers{state=\"done\"}", "libp2p_"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
