package ui

import (
	"encoding/json"
	"net/http"

	"github.com/pollen-p2p/pollen"
)

// KindOf names why a node keeps a root, as ls and the page show it:
// "shared", "pinned", or "evictable" (fetched and not pinned: served on
// while there is room, the first to go under --max-storage).
func KindOf(r pollen.Record) string {
	switch r.Kind {
	case pollen.KindShare:
		return "shared"
	case pollen.KindReseed:
		return "evictable"
	default:
		return "pinned"
	}
}

// pin pins or unpins a fetched root: POST /api/v1/pin
// {"cid": "...", "pin": true}.
func (a *API) pin(w http.ResponseWriter, r *http.Request) {
	var req struct {
		CID string `json:"cid"`
		Pin bool   `json:"pin"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.CID == "" {
		apiError(w, http.StatusBadRequest, `want {"cid": "...", "pin": true}`)
		return
	}
	c, err := ParseCID(req.CID)
	if err != nil {
		apiError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if err := a.Node.Pin(c, req.Pin); err != nil {
		apiFail(w, err)
		return
	}
	reply(w, map[string]string{"cid": c.String(), "kind": map[bool]string{true: "pinned", false: "evictable"}[req.Pin]})
}
