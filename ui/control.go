package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pollen-p2p/pollen"
)

// Pausing, resuming and canceling gets, and taking them up again when the
// daemon starts.
//
// A get's state, as the API shows it:
//
//	running ──pause──▶ paused ──resume──▶ running
//	running ──────────▶ done | failed        failed ──resume──▶ running
//	running | paused | failed ──cancel──▶ canceled
//
// A running or paused get has a record in the repo (pollen.GetRecord);
// one that ends has none. A pause ends the get's run (its context, so its
// network traffic stops), and what arrived stays: the store keeps the
// blocks (GC too, while the record exists) and the temporary files stay
// where the get writes, for the next run to adopt. A resume runs the get
// again with the same options, and it fetches only what is missing. A
// cancel stops it the same way and forgets it: like an interrupted get it
// leaves its temporary files, since the store points into them for what
// arrived, and a later get of the same ref into the same folder adopts
// them.

// Why a run was stopped, as its context's cause.
var (
	errPaused   = errors.New("paused")
	errCanceled = errors.New("canceled")
)

// keepEnded is how many ended transfers (done, failed, canceled) the list
// keeps, the oldest dropped first: enough to see what just ended, and a
// daemon that runs for months does not hold every get it ever ran.
const keepEnded = 100

func ended(state string) bool { return state == "done" || state == "failed" || state == "canceled" }

// trim drops the oldest ended transfers past keepEnded. Called with
// ts.mu held.
func (ts *transfers) trim() {
	n := 0
	for _, t := range ts.list {
		if ended(t.State) {
			n++
		}
	}
	if n <= keepEnded {
		return
	}
	out := make([]*Transfer, 0, len(ts.list)-(n-keepEnded))
	for _, t := range ts.list {
		if ended(t.State) && n > keepEnded {
			n--
			continue
		}
		out = append(out, t)
	}
	ts.list = out
}

// launch records t's get as running and runs it in a goroutine of its
// own, until it ends or is stopped. Called under controlling.
func (a *API) launch(t *Transfer) error {
	ctx, stop := context.WithCancelCause(a.ctx())
	done := make(chan struct{})
	var rec pollen.GetRecord
	a.transfers.update(func() {
		// Each run counts afresh: its rate, its peers, its stall.
		t.State, t.Started, t.Peers, t.m = "running", time.Now(), map[string]int64{}, meter{}
		t.Error, t.Code, t.Detail, t.Dir = "", "", "", t.rec.Dir
		t.stop, t.ended = stop, done
		t.rec.ID = uint64(t.ID)
		rec = *t.rec
	})
	// Recorded first: a daemon killed from now on takes it up again.
	if err := a.save(t); err != nil {
		stop(err)
		a.finish(t, pollen.GetResult{}, err, err)
		close(done)
		return err
	}
	root, opts, err := getOptions(&rec)
	if err != nil {
		stop(err)
		a.finish(t, pollen.GetResult{}, err, err)
		close(done)
		return nil
	}
	opts.FileDone = func(rel string, size int64) {
		a.transfers.update(func() { t.FilesDone, t.LastFile = t.FilesDone+1, rel })
	}
	opts.Fetch = func(p pollen.FetchProgress) {
		a.transfers.update(func() {
			now := time.Now()
			t.Done, t.Total, t.Here, t.Damaged = p.Done, p.Total, p.Here, p.Damaged
			t.m.setMoved(p.Received(), now)
			t.m.set(p.Done, p.Total, now)
			for id, n := range p.Peers {
				t.Peers[id.String()] = n
			}
		})
	}
	a.running.Add(1)
	go func() {
		defer a.running.Done()
		defer close(done)
		res, err := a.Node.Get(ctx, root, rec.Dir, opts)
		stop(nil)
		a.finish(t, res, err, context.Cause(ctx))
	}()
	return nil
}

// finish notes how a run of t ended, and keeps or forgets its record.
func (a *API) finish(t *Transfer, res pollen.GetResult, err, cause error) {
	a.transfers.update(func() {
		t.stop = nil
		switch {
		case err == nil: // done, even if a pause came too late
			t.State, t.Path, t.Done = "done", res.Path, t.Total
		case errors.Is(cause, errPaused):
			t.State = "paused"
		case errors.Is(cause, errCanceled):
			t.State = "canceled"
		case a.ctx().Err() != nil:
			// The daemon stops: the record still says running, so it
			// runs again when the daemon starts.
		default:
			t.State, t.ErrorKind = "failed", string(pollen.KindOf(err))
			t.Code, t.Error, t.Detail = explain(err, t)
		}
		a.transfers.trim()
	})
	if err := a.save(t); err != nil {
		a.transfers.update(func() { t.Error = err.Error() })
	}
}

// save writes t's record as t is now: kept while it runs or is paused
// (with where it stands, to show before it runs again), deleted once it
// ended. Whoever changes t's state saves it after, and saves are one at a
// time, each reading the state anew: the last written is the latest.
func (a *API) save(t *Transfer) error {
	a.saving.Lock()
	defer a.saving.Unlock()
	a.transfers.mu.Lock()
	keep := t.State == "running" || t.State == "paused"
	t.rec.State, t.rec.Done, t.rec.Total = t.State, t.Done, t.Total
	rec := *t.rec
	a.transfers.mu.Unlock()
	if keep {
		return a.Node.PutGet(rec)
	}
	return a.Node.DeleteGet(rec.ID)
}

// Restore lists the gets recorded in the repo: a paused one as paused,
// and one that was running when the daemon stopped (or was killed) runs
// again. The daemon calls it once, before it answers.
func (a *API) Restore() error {
	a.controlling.Lock()
	defer a.controlling.Unlock()
	recs, err := a.Node.Gets()
	if err != nil {
		return err
	}
	for i := range recs {
		rec := recs[i]
		t := &Transfer{ID: int(rec.ID), Kind: "get", CID: rec.Root.String(), Name: rec.Name, State: "paused",
			Done: rec.Done, Total: rec.Total, Peers: map[string]int64{}, Started: rec.Added, Dir: rec.Dir, rec: &rec}
		a.transfers.update(func() {
			a.transfers.next = max(a.transfers.next, t.ID)
			a.transfers.list = append(a.transfers.list, t)
		})
		if rec.State != "paused" {
			a.launch(t) // an error shows as the get's
		}
	}
	return nil
}

// control answers POST /api/v1/transfers/{id}/pause, /resume and
// /cancel, and DELETE /api/v1/transfers/{id} (cancel), with the transfer
// as it is once done: a pause returns when the get has stopped.
func (a *API) control(w http.ResponseWriter, r *http.Request) {
	verb := "cancel"
	if r.Method == http.MethodPost {
		verb = r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	}
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil {
		apiError(w, http.StatusBadRequest, "%q is not a transfer ID (see GET /api/v1/transfers)", r.PathValue("id"))
		return
	}
	// One change at a time: a resume never starts a run while the one a
	// pause stopped is still writing.
	a.controlling.Lock()
	defer a.controlling.Unlock()
	t := a.transfers.find(id)
	if t == nil {
		apiError(w, http.StatusNotFound, "no transfer %d (see 'pollen transfers')", id)
		return
	}
	var code int
	var msg string
	switch verb {
	case "pause":
		code, msg = a.pause(t)
	case "resume":
		// {"force": true} retries a get that found other files in its
		// way, replacing them: the page asks the person first.
		var req struct {
			Force bool `json:"force"`
		}
		if r.ContentLength != 0 {
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
				apiError(w, http.StatusBadRequest, `want {"force": true} or no body`)
				return
			}
		}
		code, msg = a.resume(t, req.Force)
	default:
		code, msg = a.cancel(t)
	}
	if code != http.StatusOK {
		apiError(w, code, "%s", msg)
		return
	}
	for _, s := range a.transfers.snapshot() {
		if s.ID == id {
			reply(w, s)
			return
		}
	}
	reply(w, map[string]int{"id": id}) // trimmed away meanwhile
}

// stopRun shows t in state at once and records it so, then ends its run,
// if it has one, and waits until its goroutine is done with it. Called
// under controlling.
func (a *API) stopRun(t *Transfer, state string, why error) error {
	var stop context.CancelCauseFunc
	var done chan struct{}
	a.transfers.update(func() {
		t.State = state
		stop, done = t.stop, t.ended
		a.transfers.trim()
	})
	// Recorded first: a daemon killed from now on leaves it paused.
	err := a.save(t)
	if stop != nil {
		stop(why)
		<-done
	}
	return err
}

func (a *API) pause(t *Transfer) (int, string) {
	state, kind := a.stateOf(t)
	switch {
	case kind != "get":
		return http.StatusConflict, fmt.Sprintf("transfer %d is an add: only gets pause", t.ID)
	case state == "paused":
		return http.StatusOK, ""
	case state != "running":
		return http.StatusConflict, fmt.Sprintf("get %d is %s: nothing to pause", t.ID, state)
	}
	if err := a.stopRun(t, "paused", errPaused); err != nil {
		return http.StatusInternalServerError, err.Error()
	}
	return http.StatusOK, ""
}

func (a *API) resume(t *Transfer, force bool) (int, string) {
	state, kind := a.stateOf(t)
	switch {
	case kind != "get":
		return http.StatusConflict, fmt.Sprintf("transfer %d is an add: only gets resume", t.ID)
	case state == "running":
		return http.StatusOK, ""
	case state != "paused" && state != "failed":
		return http.StatusConflict, fmt.Sprintf("get %d is %s: nothing to resume", t.ID, state)
	}
	if force {
		a.transfers.update(func() { t.rec.Force = true })
	}
	if err := a.launch(t); err != nil {
		return http.StatusInternalServerError, err.Error()
	}
	return http.StatusOK, ""
}

func (a *API) cancel(t *Transfer) (int, string) {
	state, kind := a.stateOf(t)
	switch {
	case kind != "get":
		return http.StatusConflict, fmt.Sprintf("transfer %d is an add: only gets cancel", t.ID)
	case state == "canceled":
		return http.StatusOK, ""
	case state == "done":
		return http.StatusConflict, fmt.Sprintf("get %d is done: nothing to cancel ('pollen rm CID' forgets what it fetched)", t.ID)
	}
	if err := a.stopRun(t, "canceled", errCanceled); err != nil {
		return http.StatusInternalServerError, err.Error()
	}
	return http.StatusOK, ""
}

func (a *API) stateOf(t *Transfer) (state, kind string) {
	a.transfers.mu.Lock()
	defer a.transfers.mu.Unlock()
	return t.State, t.Kind
}

// sameGet returns the running or paused get that rec asks for again, or
// nil.
func (ts *transfers) sameGet(rec *pollen.GetRecord) *Transfer {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, t := range ts.list {
		if t.rec == nil || (t.State != "running" && t.State != "paused") {
			continue
		}
		r := t.rec
		if r.Ref == rec.Ref && r.Dir == rec.Dir && r.Force == rec.Force && r.MaxEntries == rec.MaxEntries &&
			slices.Equal(r.Only, rec.Only) && slices.Equal(r.Paths, rec.Paths) && slices.Equal(r.From, rec.From) {
			return t
		}
	}
	return nil
}

// find returns the transfer with id, or nil.
func (ts *transfers) find(id int) *Transfer {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, t := range ts.list {
		if t.ID == id {
			return t
		}
	}
	return nil
}
