package ui_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/ui"
)

// TestLimitsAPI: PUT /api/v1/limits changes the rates given, keeps the
// others, saves them in the repo, and refuses what it cannot take with
// one readable line.
func TestLimitsAPI(t *testing.T) {
	shaped := func(t *testing.T, shaped bool) (*pollen.Node, string) {
		node, err := pollen.Open(t.TempDir(), pollen.Config{
			Listen: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")}, Offline: true, NoMDNS: true, Shaped: shaped,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { node.Close() })
		if err := node.StartNetwork(); err != nil {
			t.Fatal(err)
		}
		api := &ui.API{Node: node, Token: "secret"}
		srv := httptest.NewServer(api.Handler())
		t.Cleanup(srv.Close)
		_, api.Port, _ = net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
		return node, srv.URL
	}
	call := func(t *testing.T, method, url, body, token string) (int, ui.LimitsStatus, string) {
		t.Helper()
		req, _ := http.NewRequest(method, url+"/api/v1/limits", strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var raw json.RawMessage
		json.NewDecoder(resp.Body).Decode(&raw)
		var st ui.LimitsStatus
		var e struct{ Error string }
		json.Unmarshal(raw, &st)
		json.Unmarshal(raw, &e)
		return resp.StatusCode, st, e.Error
	}

	node, url := shaped(t, true)
	if code, st, _ := call(t, "GET", url, "", "secret"); code != 200 || st.Limits != (ui.Limits{}) || !st.Measured.Wire {
		t.Fatalf("GET: %d %+v", code, st)
	}
	if code, st, _ := call(t, "PUT", url, `{"up": 625000, "peer_up": 125000}`, "secret"); code != 200 || st.Limits != (ui.Limits{Up: 625000, PeerUp: 125000}) {
		t.Fatalf("PUT: %d %+v", code, st)
	}
	if code, st, _ := call(t, "PUT", url, `{"down": 2000000}`, "secret"); code != 200 || st.Limits != (ui.Limits{Up: 625000, Down: 2000000, PeerUp: 125000}) {
		t.Fatalf("PUT down alone: %d %+v", code, st)
	}
	if l := node.Limits(); l != (pollen.Limits{Up: 625000, Down: 2000000, PeerUp: 125000}) {
		t.Errorf("the node runs with %+v", l)
	}
	if saved, err := node.SavedLimits(); err != nil || saved != node.Limits() {
		t.Errorf("saved %+v (%v)", saved, err)
	}
	for _, tc := range []struct {
		body, token string
		code        int
		says        string
	}{
		{`{"up": -1}`, "secret", 400, "negative"},
		{`{"up": "fast"}`, "secret", 400, "bytes a second"},
		{`{"up": 0}`, "", 401, ""},
	} {
		code, _, msg := call(t, "PUT", url, tc.body, tc.token)
		if code != tc.code || !strings.Contains(msg, tc.says) || msg == "" {
			t.Errorf("PUT %s: %d %q, want %d %q", tc.body, code, msg, tc.code, tc.says)
		}
	}
	if saved, _ := node.SavedLimits(); saved.Up != 625000 {
		t.Errorf("a refused PUT changed the saved limits: %+v", saved)
	}

	// A node started with no limit and not shaped cannot take one.
	bare, url := shaped(t, false)
	code, _, msg := call(t, "PUT", url, `{"up": 1000}`, "secret")
	if code != http.StatusConflict || !strings.Contains(msg, "without rate limits") {
		t.Errorf("PUT on a bare node: %d %q", code, msg)
	}
	if saved, _ := bare.SavedLimits(); saved != (pollen.Limits{}) {
		t.Errorf("a bare node saved %+v", saved)
	}
}
