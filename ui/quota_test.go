package ui_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pollen-p2p/pollen/ui"
)

// The API carries what ls shows: each root's kind, and what the store
// holds; a share cannot be unpinned.
func TestSharesKindsAndPin(t *testing.T) {
	node, res := onlineNode(t, "hello, quota")
	api := &ui.API{Node: node, Token: "secret"}
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	_, api.Port, _ = net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	call := func(method, path, body string, v any) int {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		json.NewDecoder(resp.Body).Decode(v)
		return resp.StatusCode
	}
	var shares []ui.Share
	call("GET", "/api/v1/shares", "", &shares)
	if len(shares) != 1 || shares[0].Kind != "shared" || shares[0].CID != res.Root.String() {
		t.Fatalf("shares %+v", shares)
	}
	var st ui.Status
	call("GET", "/api/v1/status", "", &st)
	if st.Stored != int64(len("hello, quota")) || st.Kept != st.Stored || st.Quota != 0 {
		t.Errorf("status stored %d kept %d quota %d", st.Stored, st.Kept, st.Quota)
	}
	var e struct{ Error string }
	code := call("POST", "/api/v1/pin", `{"cid": "`+res.Root.String()+`", "pin": false}`, &e)
	if code != http.StatusBadRequest || !strings.Contains(e.Error, "it is shared") {
		t.Errorf("unpinning a share: %d %q", code, e.Error)
	}
	if code := call("POST", "/api/v1/pin", `{"cid": "`+res.Root.String()+`", "pin": true}`, &e); code != http.StatusOK {
		t.Errorf("pinning a share: %d %q", code, e.Error)
	}
}
