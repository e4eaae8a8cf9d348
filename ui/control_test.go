package ui_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/ui"
)

// apiClient serves api on loopback and calls it with its token.
type apiClient struct {
	t   *testing.T
	url string
}

func clientFor(t *testing.T, api *ui.API) apiClient {
	t.Helper()
	api.Token = "secret"
	_, srv := serveAPI(t, api)
	return apiClient{t, srv.URL}
}

// do calls the API and decodes its JSON answer into v, if not nil; it
// returns the status and the error line, if any.
func (c apiClient) do(method, path, body string, v any) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		json.NewDecoder(resp.Body).Decode(&e)
		return resp.StatusCode, e.Error
	}
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			c.t.Fatal(err)
		}
	}
	return resp.StatusCode, ""
}

// start begins a get of ref and returns its ID.
func (c apiClient) start(ref string) int {
	c.t.Helper()
	var started struct{ ID int }
	if code, msg := c.do("POST", "/api/v1/get", `{"ref": "`+ref+`", "only": ["*.txt"]}`, &started); code != http.StatusOK {
		c.t.Fatalf("get %s: %d %s", ref, code, msg)
	}
	return started.ID
}

// waitState polls the transfer until it is in state.
func (c apiClient) waitState(id int, state string) ui.Transfer {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var list []ui.Transfer
		c.do("GET", "/api/v1/transfers", "", &list)
		for _, tr := range list {
			if tr.ID == id && tr.State == state {
				return tr
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("transfer %d never %s: %+v", id, state, list)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// nowhere is a CID no node has: a get of it runs until it stalls.
func nowhere(t *testing.T) cid.Cid {
	h, err := mh.Sum([]byte(t.Name()+time.Now().String()), mh.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(cid.Raw, h)
}

// TestTransferStateMachine walks a get through pause, resume and cancel,
// and checks each refusal says why with the right status.
func TestTransferStateMachine(t *testing.T) {
	node, res := onlineNode(t, "hello, pollen")
	c := clientFor(t, &ui.API{Node: node, DownloadDir: t.TempDir()})

	// A get that is done cannot be paused nor canceled.
	done := c.start(res.Root.String())
	c.waitState(done, "done")
	for _, verb := range []string{"pause", "cancel"} {
		if code, msg := c.do("POST", "/api/v1/transfers/"+itoa(done)+"/"+verb, "", nil); code != http.StatusConflict || !strings.Contains(msg, "is done") {
			t.Errorf("%s a done get: %d %q", verb, code, msg)
		}
	}
	if code, msg := c.do("POST", "/api/v1/transfers/"+itoa(done)+"/resume", "", nil); code != http.StatusConflict || !strings.Contains(msg, "nothing to resume") {
		t.Errorf("resume a done get: %d %q", code, msg)
	}

	// A get of what nobody has runs until it stalls.
	missing := nowhere(t)
	id := c.start(missing.String())
	path := "/api/v1/transfers/" + itoa(id)
	var tr ui.Transfer
	if code, msg := c.do("POST", path+"/resume", "", &tr); code != http.StatusOK || tr.State != "running" {
		t.Errorf("resume a running get: %d %q %+v", code, msg, tr)
	}
	if code, msg := c.do("POST", path+"/pause", "", &tr); code != http.StatusOK || tr.State != "paused" {
		t.Fatalf("pause: %d %q %+v", code, msg, tr)
	}
	recs, err := node.Gets()
	if err != nil || len(recs) != 1 || recs[0].ID != uint64(id) || recs[0].State != "paused" || recs[0].Ref != missing.String() || len(recs[0].Only) != 1 {
		t.Errorf("records of a paused get: %+v %v", recs, err)
	}
	if code, _ := c.do("POST", path+"/pause", "", &tr); code != http.StatusOK || tr.State != "paused" {
		t.Errorf("pause a paused get: %d %+v", code, tr)
	}
	if code, msg := c.do("POST", path+"/resume", "", &tr); code != http.StatusOK || tr.State != "running" {
		t.Fatalf("resume: %d %q %+v", code, msg, tr)
	}
	if recs, _ := node.Gets(); len(recs) != 1 || recs[0].State != "running" {
		t.Errorf("records of a resumed get: %+v", recs)
	}
	if code, msg := c.do("DELETE", path, "", &tr); code != http.StatusOK || tr.State != "canceled" {
		t.Fatalf("cancel: %d %q %+v", code, msg, tr)
	}
	if recs, _ := node.Gets(); len(recs) != 0 {
		t.Errorf("a canceled get is still recorded: %+v", recs)
	}
	if code, _ := c.do("POST", path+"/cancel", "", &tr); code != http.StatusOK || tr.State != "canceled" {
		t.Errorf("cancel a canceled get: %d %+v", code, tr)
	}
	if code, msg := c.do("POST", path+"/pause", "", nil); code != http.StatusConflict || !strings.Contains(msg, "canceled") {
		t.Errorf("pause a canceled get: %d %q", code, msg)
	}

	for _, tc := range []struct {
		method, path string
		code         int
		want         string
	}{
		{"POST", "/api/v1/transfers/999/pause", http.StatusNotFound, "no transfer 999"},
		{"DELETE", "/api/v1/transfers/999", http.StatusNotFound, "no transfer 999"},
		{"POST", "/api/v1/transfers/x/resume", http.StatusBadRequest, "not a transfer ID"},
	} {
		if code, msg := c.do(tc.method, tc.path, "", nil); code != tc.code || !strings.Contains(msg, tc.want) {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.path, code, msg, tc.code, tc.want)
		}
	}
}

// TestRestorePausedAndRunning: a daemon starting on a repo lists the
// paused get it recorded as paused, under the same ID, and runs the one
// that was running; new gets take new IDs.
func TestRestorePausedAndRunning(t *testing.T) {
	node, res := onlineNode(t, "hello, pollen")
	dir := t.TempDir()
	paused := pollen.GetRecord{ID: 7, Ref: nowhere(t).String(), Name: "far", Dir: dir, State: "paused", Done: 3, Total: 10}
	paused.Root, _ = cid.Decode(paused.Ref)
	running := pollen.GetRecord{ID: 4, Ref: res.Root.String(), Root: res.Root, Name: "hello.txt", Dir: dir, State: "running"}
	for _, r := range []pollen.GetRecord{paused, running} {
		if err := node.PutGet(r); err != nil {
			t.Fatal(err)
		}
	}
	api := &ui.API{Node: node, DownloadDir: t.TempDir()}
	if err := api.Restore(); err != nil {
		t.Fatal(err)
	}
	c := clientFor(t, api)
	if tr := c.waitState(7, "paused"); tr.Done != 3 || tr.Total != 10 || tr.Name != "far" {
		t.Errorf("restored paused get: %+v", tr)
	}
	if tr := c.waitState(4, "done"); !strings.HasPrefix(tr.Path, dir) {
		t.Errorf("restored running get wrote %q", tr.Path)
	}
	if id := c.start(res.Root.String()); id != 8 {
		t.Errorf("a new get after a restore has ID %d, want 8", id)
	}
	c.waitState(8, "done")
	if recs, _ := node.Gets(); len(recs) != 1 || recs[0].ID != 7 {
		t.Errorf("records after the restored get is done: %+v", recs)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// The same get asked for again while it runs or is paused is that get,
// resumed if paused, not a second one writing the same files.
func TestSameGetAgainIsTheSame(t *testing.T) {
	node, _ := onlineNode(t, "hello, pollen")
	c := clientFor(t, &ui.API{Node: node, DownloadDir: t.TempDir()})
	ref := nowhere(t).String()
	id := c.start(ref)
	if again := c.start(ref); again != id {
		t.Errorf("the same get again started get %d beside %d", again, id)
	}
	c.do("POST", "/api/v1/transfers/"+itoa(id)+"/pause", "", nil)
	if again := c.start(ref); again != id {
		t.Errorf("the same get again, paused, started get %d beside %d", again, id)
	}
	c.waitState(id, "running")
	if other := c.start(nowhere(t).String()); other == id {
		t.Errorf("another get is get %d too", id)
	}
}
