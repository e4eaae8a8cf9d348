package ui_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/ui"
)

// TestDoctorEndpoint asks GET /api/v1/doctor of an offline node: the
// node alone, then content it holds; bad input is a 400.
func TestDoctorEndpoint(t *testing.T) {
	node, res := onlineNode(t, "hello, doctor")
	_, srv := serveAPI(t, &ui.API{Node: node, Token: "secret"})
	ask := func(query string) (int, pollen.Diagnosis) {
		req, _ := http.NewRequest("GET", srv.URL+"/api/v1/doctor"+query, nil)
		req.Header.Set("Authorization", "Bearer secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var d pollen.Diagnosis
		json.NewDecoder(resp.Body).Decode(&d)
		return resp.StatusCode, d
	}

	code, d := ask("")
	if code != http.StatusOK || d.Node.ID != node.ID().String() || d.Node.Reachability != pollen.ReachUnknown || d.DHT.On || d.Content != nil {
		t.Errorf("doctor of the node: %d %+v", code, d)
	}
	code, d = ask("?ref=" + res.Root.String())
	if c := d.Content; code != http.StatusOK || c == nil || !c.Here || c.Verdict != pollen.VerdictHere || c.Stuck {
		t.Errorf("doctor of content here: %d %+v", code, d.Content)
	}
	for _, q := range []string{"?ref=pollen1garbage", "?ref=notacid", "?wait=forever", "?timeout=-1s"} {
		if code, _ := ask(q); code != http.StatusBadRequest {
			t.Errorf("doctor%s: %d, want 400", q, code)
		}
	}
}
