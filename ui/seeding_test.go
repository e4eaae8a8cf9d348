package ui_test

import (
	"net/http"
	"testing"

	"github.com/pollen-p2p/pollen/ui"
)

// TestSeedingAPI: the seeding of a root is listed, paused, given a rule
// of its own and resumed through the API; bad requests say what is wrong.
func TestSeedingAPI(t *testing.T) {
	node, res := onlineNode(t, "seed me")
	c := clientFor(t, &ui.API{Node: node})
	call := func(method, path, body string, v any) int {
		t.Helper()
		code, _ := c.do(method, path, body, v)
		return code
	}
	var list []ui.Seeding
	if code := call("GET", "/api/v1/seeding", "", &list); code != 200 || len(list) != 1 || list[0].State != "seeding" || list[0].CID != res.Root.String() {
		t.Fatalf("list: %d %+v", code, list)
	}
	path := "/api/v1/seeding/" + res.Root.String()
	var sd ui.Seeding
	if code := call("POST", path, `{"pause": true}`, &sd); code != 200 || sd.State != "paused" {
		t.Errorf("pause: %d %+v", code, sd)
	}
	if code := call("POST", path, `{"resume": true, "ratio": 3, "time": "48h"}`, &sd); code != 200 || sd.State != "seeding" ||
		sd.StopRatio != 3 || sd.StopSeconds != 48*3600 || !sd.OwnRules {
		t.Errorf("resume with rules: %d %+v", code, sd)
	}
	var shares []ui.Share
	if call("GET", "/api/v1/shares", "", &shares); len(shares) != 1 || shares[0].Seeding.StopRatio != 3 {
		t.Errorf("shares: %+v", shares)
	}
	for _, bad := range []string{`{"time": "soon"}`, `{"pause": true, "resume": true}`, `nonsense`} {
		if code := call("POST", path, bad, nil); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, code)
		}
	}
	if code := call("POST", "/api/v1/seeding/bafkqaaa", `{"pause": true}`, nil); code != http.StatusNotFound {
		t.Errorf("an unknown root: %d, want 404", code)
	}
}
