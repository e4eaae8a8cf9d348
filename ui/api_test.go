package ui_test

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/ui"
)

// TestGetStreamsProgress starts a get through the API and follows it on the
// event stream until it is done, under the race detector in CI.
func TestGetStreamsProgress(t *testing.T) {
	node, res := onlineNode(t, "hello, pollen")
	downloads := t.TempDir()
	_, srv := serveAPI(t, &ui.API{Node: node, Token: "secret", DownloadDir: downloads})

	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer secret")
	events, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer events.Body.Close()
	if events.StatusCode != http.StatusOK || events.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", events.StatusCode, events.Header.Get("Content-Type"))
	}

	post, _ := http.NewRequest("POST", srv.URL+"/api/v1/get", strings.NewReader(`{"ref": "`+res.Root.String()+`"}`))
	post.Header.Set("Authorization", "Bearer secret")
	resp, err := http.DefaultClient.Do(post)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("get: %v %v", resp.Status, err)
	}
	resp.Body.Close()

	sc := bufio.NewScanner(events.Body)
	deadline := time.After(30 * time.Second)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var list []ui.Transfer
		if err := json.Unmarshal([]byte(line), &list); err != nil {
			t.Fatal(err)
		}
		if len(list) == 1 && list[0].State == "done" {
			if list[0].FilesDone != 1 || list[0].LastFile != "hello.txt" {
				t.Errorf("per-file progress: %d files whole, last %q", list[0].FilesDone, list[0].LastFile)
			}
			if b, _ := os.ReadFile(list[0].Path); list[0].Path != filepath.Join(downloads, "hello.txt") || string(b) != "hello, pollen" {
				t.Errorf("downloaded %q", b)
			}
			return
		}
		select {
		case <-deadline:
			t.Fatal("no done event")
		default:
		}
	}
	t.Fatalf("event stream ended: %v", sc.Err())
}

// serveAPI serves api on a local port (the one its requests must name)
// until the test ends.
func serveAPI(t *testing.T, api *ui.API) (*ui.API, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	_, api.Port, _ = net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	return api, srv
}

// onlineNode opens a node on loopback, offline, with its network started
// and a file called hello.txt holding text added.
func onlineNode(t *testing.T, text string) (*pollen.Node, pollen.AddResult) {
	t.Helper()
	node := openOnline(t)
	src := filepath.Join(t.TempDir(), "hello.txt")
	os.WriteFile(src, []byte(text), 0o644)
	res, err := node.Add(t.Context(), src, pollen.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return node, res
}
