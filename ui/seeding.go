package ui

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/pollen-p2p/pollen"
)

// Seeding is how the daemon seeds one root, as the API and the page
// show it.
type Seeding struct {
	CID      string    `json:"cid"`
	Name     string    `json:"name"`
	Size     uint64    `json:"size"`
	State    string    `json:"state"`            // "seeding", "paused" or "stopped"
	Reason   string    `json:"reason,omitempty"` // why a rule stopped it
	Uploaded int64     `json:"uploaded"`         // block bytes sent to peers
	Ratio    float64   `json:"ratio"`            // uploaded over size
	Peers    int       `json:"peers"`            // distinct peers sent any
	Since    time.Time `json:"since"`            // added or fetched
	First    time.Time `json:"first_upload,omitzero"`
	// The rules in force: stop at this ratio, after this many seconds
	// (0: never), and whether they are the root's own.
	StopRatio   float64 `json:"stop_ratio"`
	StopSeconds int64   `json:"stop_seconds"`
	OwnRules    bool    `json:"own_rules,omitempty"`
}

// SeedingOf converts a node's seeding stats.
func SeedingOf(st pollen.SeedStat) Seeding {
	return Seeding{
		CID: st.Root.String(), Name: st.Name, Size: st.Size, State: st.State, Reason: st.Reason,
		Uploaded: st.Uploaded, Ratio: st.Ratio(), Peers: st.Peers, Since: st.Since, First: st.FirstUpload,
		StopRatio: st.Rules.Ratio, StopSeconds: int64(st.Rules.Time.Seconds()), OwnRules: st.OwnRatio || st.OwnTime,
	}
}

// listSeeding: GET /api/v1/seeding.
func (a *API) listSeeding(w http.ResponseWriter, r *http.Request) {
	stats, err := a.Node.Seeding()
	if err != nil {
		apiError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	out := []Seeding{}
	for _, st := range stats {
		out = append(out, SeedingOf(st))
	}
	reply(w, out)
}

// SeedingChange is the body of POST /api/v1/seeding/{cid}: a ratio or a
// time (a Go duration, "24h") of the root's own, "default" (or a
// negative ratio) for the node's; pause or resume.
type SeedingChange struct {
	Ratio  *float64 `json:"ratio,omitempty"`
	Time   string   `json:"time,omitempty"`
	Pause  bool     `json:"pause,omitempty"`
	Resume bool     `json:"resume,omitempty"`
}

// setSeeding: POST /api/v1/seeding/{cid}.
func (a *API) setSeeding(w http.ResponseWriter, r *http.Request) {
	c, err := ParseCID(r.PathValue("cid"))
	if err != nil {
		apiError(w, http.StatusBadRequest, "%v", err)
		return
	}
	var req SeedingChange
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		apiError(w, http.StatusBadRequest, `want {"ratio": 2, "time": "24h", "pause": true, "resume": true}`)
		return
	}
	ch, err := req.Change()
	if err != nil {
		apiError(w, http.StatusBadRequest, "%v", err)
		return
	}
	st, err := a.Node.SetSeeding(c, ch)
	if err != nil {
		apiFail(w, err)
		return
	}
	reply(w, SeedingOf(st))
}

// Change is what req asks of pollen.SetSeeding.
func (req SeedingChange) Change() (pollen.SeedChange, error) {
	ch := pollen.SeedChange{Ratio: req.Ratio, Pause: req.Pause, Resume: req.Resume}
	if req.Pause && req.Resume {
		return ch, fmt.Errorf("pause or resume, not both")
	}
	switch req.Time {
	case "":
	case "default":
		d := time.Duration(-1)
		ch.Time = &d
	default:
		d, err := time.ParseDuration(req.Time)
		if err != nil || d < 0 {
			return ch, fmt.Errorf("time %q: want a duration such as 24h or 90m, 0 for never, or default", req.Time)
		}
		ch.Time = &d
	}
	return ch, nil
}
