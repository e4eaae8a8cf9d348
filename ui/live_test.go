package ui_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/ui"
)

// TestLiveThroughAPI shares a folder live through the API, lists it
// with its ticket and the ticket's QR code, refuses a bad ticket to
// follow, and stops it, which drops its versions; a call without the
// token is refused.
func TestLiveThroughAPI(t *testing.T) {
	node := openOnline(t)
	_, srv := serveAPI(t, &ui.API{Node: node, Token: "secret"})
	call := func(method, path, body string, v any) int {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if v != nil && resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal(b, v); err != nil {
				t.Fatalf("%s %s: %v: %s", method, path, err, b)
			}
		}
		return resp.StatusCode
	}

	get := func(path string) (code int, ctype, body string) {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}

	if resp, err := http.Get(srv.URL + "/api/v1/live"); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: %v %v", resp.Status, err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("one"), 0o644)
	body, _ := json.Marshal(map[string]string{"dir": dir})
	var shared ui.Live
	if code := call("POST", "/api/v1/live", string(body), &shared); code != http.StatusOK || shared.Seq != 1 || shared.Ticket == "" {
		t.Fatalf("share live: %d %+v", code, shared)
	}
	tk, err := pollen.ParseTicket(shared.Ticket)
	if err != nil || tk.Live != shared.Name {
		t.Fatalf("ticket %q: %v", shared.Ticket, err)
	}
	var list []ui.Live
	if call("GET", "/api/v1/live", "", &list); len(list) != 1 || list[0].Dir != dir || list[0].Ticket != shared.Ticket || list[0].Record != nil {
		t.Fatalf("list: %+v", list)
	}
	if code, ctype, svg := get("/api/v1/live/" + shared.Name.String() + "/qr.svg"); code != http.StatusOK || ctype != "image/svg+xml" || !strings.HasPrefix(svg, "<svg") {
		t.Errorf("the live ticket's QR code: %d %s %.40q", code, ctype, svg)
	}
	if code, _, _ := get("/api/v1/live/nonsense/qr.svg"); code != http.StatusBadRequest {
		t.Errorf("QR code of a bad name: %d, want 400", code)
	}
	if code := call("POST", "/api/v1/follow", `{"ticket": "pollen1nonsense", "dir": "x"}`, nil); code != http.StatusBadRequest {
		t.Errorf("follow a bad ticket: %d, want 400", code)
	}
	if code := call("DELETE", "/api/v1/live/"+shared.Name.String(), "", nil); code != http.StatusOK {
		t.Fatalf("stop: %d", code)
	}
	if code := call("DELETE", "/api/v1/live/"+shared.Name.String(), "", nil); code != http.StatusNotFound {
		t.Errorf("stop again: %d, want 404", code)
	}
	if call("GET", "/api/v1/live", "", &list); len(list) != 0 {
		t.Errorf("after stop: %+v", list)
	}
	if code, _, _ := get("/api/v1/live/" + shared.Name.String() + "/qr.svg"); code != http.StatusNotFound {
		t.Errorf("QR code of a stopped share: %d, want 404", code)
	}
	var shares []ui.Share
	if call("GET", "/api/v1/shares", "", &shares); len(shares) != 0 {
		t.Errorf("the stopped share's versions are still kept: %+v", shares)
	}
}
