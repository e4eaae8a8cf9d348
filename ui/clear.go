package ui

import (
	"net/http"
)

// Clearing ended transfers from the list: DELETE /api/v1/transfers takes
// away the done, failed and canceled ones (?state=done takes only those
// in that state) and answers {"cleared": N}. A running or paused get is
// never cleared: cancel it first. What a get wrote and what the store
// keeps stay; the list only forgets it was shown.

func (a *API) clearTransfers(w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("state")
	if state != "" && !ended(state) {
		apiError(w, http.StatusBadRequest, "state %q: only ended transfers clear (done, failed or canceled)", state)
		return
	}
	a.controlling.Lock()
	defer a.controlling.Unlock()
	n := 0
	a.transfers.update(func() {
		n = a.transfers.clear(func(t *Transfer) bool {
			return ended(t.State) && (state == "" || t.State == state)
		})
	})
	reply(w, map[string]int{"cleared": n})
}

// clear drops the transfers gone says, and counts them. Called with
// ts.mu held.
func (ts *transfers) clear(gone func(*Transfer) bool) int {
	out := ts.list[:0]
	for _, t := range ts.list {
		if !gone(t) {
			out = append(out, t)
		}
	}
	n := len(ts.list) - len(out)
	clear(ts.list[len(out):]) // the dropped ones are garbage
	ts.list = out
	return n
}
