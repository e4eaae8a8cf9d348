package ui

import (
	"net/http"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen"
)

// maxDoctorWait bounds how long GET /api/v1/doctor waits for the node's
// reachability: a caller's wait, not a stranger's way to hold a
// connection open.
const maxDoctorWait = 2 * time.Minute

// maxDoctorTimeout bounds each probe of a diagnosis the API runs.
const maxDoctorTimeout = time.Minute

// doctor diagnoses the node and, with ref (a ticket or CID), the
// content: GET /api/v1/doctor?ref=TICKET&wait=30s&timeout=10s. A get of the same
// content that runs now is judged too: each peer's rate, and why it is
// slow or stuck.
func (a *API) doctor(w http.ResponseWriter, r *http.Request) {
	var o pollen.DoctorOptions
	if s := r.URL.Query().Get("wait"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			apiError(w, http.StatusBadRequest, "wait %q: want a duration such as 30s", s)
			return
		}
		o.Wait = min(d, maxDoctorWait)
	}
	if s := r.URL.Query().Get("timeout"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			apiError(w, http.StatusBadRequest, "timeout %q: want a duration such as 10s", s)
			return
		}
		o.Timeout = min(d, maxDoctorTimeout)
	}
	if ref := strings.TrimSpace(r.URL.Query().Get("ref")); ref != "" {
		root, g, err := ParseRef(ref)
		if err != nil {
			apiError(w, http.StatusBadRequest, "%v", err)
			return
		}
		o.Root, o.Name, o.From, o.Ticket = root, g.Name, g.From, strings.HasPrefix(ref, "pollen1")
		o.Transfer = a.transfers.running(root.String())
	}
	d, err := a.Node.Doctor(r.Context(), o)
	if err != nil {
		apiError(w, http.StatusServiceUnavailable, "%v", err)
		return
	}
	reply(w, d)
}

// running returns what the running get of root has seen, or nil.
func (ts *transfers) running(root string) *pollen.TransferState {
	for _, t := range ts.snapshot() {
		if t.Kind != "get" || t.State != "running" || t.CID != root {
			continue
		}
		st := &pollen.TransferState{Done: t.Done, Total: t.Total, Stalled: t.Stalled, Peers: map[peer.ID]int64{}}
		for s, n := range t.Peers {
			if id, err := peer.Decode(s); err == nil {
				st.Peers[id] = n
			}
		}
		return st
	}
	return nil
}
