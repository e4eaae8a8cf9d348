package ui_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pollen-p2p/pollen/ui"
)

// A get that finds other files in its way fails with the code "exists"
// and a sentence naming where; the same get resumed with force replaces
// them; done gets then clear from the list, running ones never do.
func TestReplaceAfterAskingAndClear(t *testing.T) {
	node, res := onlineNode(t, "hello, pollen")
	dir := t.TempDir()
	c := clientFor(t, &ui.API{Node: node, DownloadDir: t.TempDir()})
	mine := filepath.Join(dir, "hello.txt")
	os.WriteFile(mine, []byte("mine, not yours"), 0o644)

	var started struct{ ID int }
	if code, msg := c.do("POST", "/api/v1/get", `{"ref": "`+res.Root.String()+`", "dir": "`+dir+`"}`, &started); code != http.StatusOK {
		t.Fatalf("get: %d %s", code, msg)
	}
	tr := c.waitState(started.ID, "failed")
	if tr.Code != ui.CodeExists || !strings.Contains(tr.Error, dir) || strings.Contains(tr.Error, "--force") || !strings.Contains(tr.Detail, "already exists") || tr.Dir != dir {
		t.Errorf("a get into other files: code %q, error %q, detail %q, dir %q", tr.Code, tr.Error, tr.Detail, tr.Dir)
	}
	if b, _ := os.ReadFile(mine); string(b) != "mine, not yours" {
		t.Fatalf("the file was replaced without asking: %q", b)
	}
	path := "/api/v1/transfers/" + itoa(started.ID)
	if code, msg := c.do("POST", path+"/resume", `{"force": true}`, nil); code != http.StatusOK {
		t.Fatalf("resume with force: %d %s", code, msg)
	}
	c.waitState(started.ID, "done")
	if b, _ := os.ReadFile(mine); string(b) != "hello, pollen" {
		t.Errorf("after replacing: %q", b)
	}

	running := c.start(nowhere(t).String())
	if code, msg := c.do("DELETE", "/api/v1/transfers?state=running", "", nil); code != http.StatusBadRequest || !strings.Contains(msg, "only ended") {
		t.Errorf("clear running ones: %d %q", code, msg)
	}
	var cleared struct{ Cleared int }
	if code, msg := c.do("DELETE", "/api/v1/transfers?state=done", "", &cleared); code != http.StatusOK || cleared.Cleared != 1 {
		t.Errorf("clear done ones: %d %q %+v", code, msg, cleared)
	}
	var list []ui.Transfer
	c.do("GET", "/api/v1/transfers", "", &list)
	if len(list) != 1 || list[0].ID != running || list[0].State != "running" {
		t.Errorf("after clearing: %+v", list)
	}
}

// The share API reads a path as a person pastes it: spaces around it,
// and ~/ for the daemon user's home.
func TestShareReadsPastedPaths(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	os.WriteFile(filepath.Join(home, "notes.txt"), []byte("notes"), 0o644)
	node, _ := onlineNode(t, "hello, pollen")
	c := clientFor(t, &ui.API{Node: node, DownloadDir: t.TempDir()})
	var sh ui.Share
	if code, msg := c.do("POST", "/api/v1/shares", `{"path": "  ~/notes.txt\n"}`, &sh); code != http.StatusOK || sh.Name != "notes.txt" {
		t.Fatalf("share ~/notes.txt: %d %q %+v", code, msg, sh)
	}
	var missing struct{ Error, Code string }
	req, _ := http.NewRequest("POST", c.url+"/api/v1/shares", strings.NewReader(`{"path": "~/gone", "async": true}`))
	req.Header.Set("Authorization", "Bearer secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&missing)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || missing.Code != ui.CodeNotFound || !strings.HasPrefix(missing.Error, filepath.Join(home, "gone")+": ") {
		t.Errorf("share a missing path: %d %+v", resp.StatusCode, missing)
	}

	// The ticket's QR code is an SVG image of this origin.
	req, _ = http.NewRequest("GET", c.url+"/api/v1/shares/"+sh.CID+"/qr.svg", nil)
	req.Header.Set("Authorization", "Bearer secret")
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(string(b), "<svg ") {
		t.Errorf("QR code: %d %s %.80s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
}
