package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen"
)

// Transfer is one get the daemon runs, as the API and the page show it.
type Transfer struct {
	ID      int     `json:"id"`
	Kind    string  `json:"kind"` // "get", or "add" for a share the daemon imports
	Ticket  string  `json:"ticket,omitempty"`
	Skipped int     `json:"skipped,omitempty"` // hidden entries an add left out
	CID     string  `json:"cid"`
	Name    string  `json:"name"`
	Done    int64   `json:"done"`
	Here    int64   `json:"here"` // of done, found already here (a resumed get)
	Total   int64   `json:"total"`
	Rate    float64 `json:"rate"`    // bytes per second over the last seconds, of what moved in this run
	ETA     float64 `json:"eta"`     // seconds left at that rate; 0 when unknown
	Stalled bool    `json:"stalled"` // running, and nothing arrived for stallAfter
	// Looking: running, and no byte has come in this run yet: the get is
	// still looking for holders.
	Looking bool             `json:"looking,omitempty"`
	Peers   map[string]int64 `json:"peers"`
	Damaged int              `json:"damaged,omitempty"` // blocks peers sent damaged, dropped and fetched again
	State   string           `json:"state"`             // "running", "paused", "done", "failed", "canceled"
	// Error says why it failed in a sentence for people (see plain.go);
	// Code names the reason for programs, Detail is the error as Go said
	// it, ErrorKind its kind (pollen.ErrorKind: the exit code's).
	Error     string `json:"error,omitempty"`
	Code      string `json:"code,omitempty"`
	Detail    string `json:"detail,omitempty"`
	ErrorKind string `json:"error_kind,omitempty"`
	// FilesDone counts the files of a get written whole so far (this
	// run's, those an earlier run left included); LastFile is the last.
	FilesDone int       `json:"files_done,omitempty"`
	LastFile  string    `json:"last_file,omitempty"`
	Dir       string    `json:"dir,omitempty"` // where a get writes
	Path      string    `json:"path,omitempty"`
	Started   time.Time `json:"started"`
	m         meter     // the rate and ETA, as the terminal's bar counts them

	// A get's record: what runs it again after a pause or a restart;
	// nil for an add.
	rec *pollen.GetRecord
	// While a get runs: stop ends the run, ended is closed when its
	// goroutine has finished with it (see control.go).
	stop  context.CancelCauseFunc
	ended chan struct{}
}

// stallAfter is how long a running transfer may see nothing arrive
// before it is shown as stalled.
const stallAfter = 5 * time.Second

// transfers keeps the daemon's gets and wakes the event streams.
type transfers struct {
	mu      sync.Mutex
	next    int
	list    []*Transfer
	changed chan struct{} // closed and replaced on every change
}

func (ts *transfers) snapshot() []Transfer {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	out := make([]Transfer, 0, len(ts.list))
	now := time.Now()
	for _, t := range ts.list {
		if t.State == "running" {
			t.Rate = t.m.rate(now)
			t.ETA = 0
			if t.Rate > 0 && t.Total > t.Done {
				t.ETA = float64(t.Total-t.Done) / t.Rate
			}
			// Nothing for stallAfter is a stall (the sharer left, say),
			// from the start too (the doctor reads it so); before the
			// first byte the page says "looking for holders" instead.
			last := t.Started
			if t.m.lastMove.After(last) {
				last = t.m.lastMove
			}
			t.Looking = !t.m.started()
			t.Stalled = now.Sub(last) > stallAfter
		} else {
			t.Stalled, t.Looking, t.ETA = false, false, 0
		}
		c := *t
		c.Peers = make(map[string]int64, len(t.Peers))
		for k, v := range t.Peers {
			c.Peers[k] = v
		}
		out = append(out, c)
	}
	return out
}

// update changes a transfer under the lock and wakes the streams.
func (ts *transfers) update(fn func()) {
	ts.mu.Lock()
	fn()
	if ts.changed == nil {
		ts.changed = make(chan struct{})
	}
	close(ts.changed)
	ts.changed = make(chan struct{})
	ts.mu.Unlock()
}

func (ts *transfers) wait() <-chan struct{} {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.changed == nil {
		ts.changed = make(chan struct{})
	}
	return ts.changed
}

// start registers a running transfer.
func (ts *transfers) start(t *Transfer) *Transfer {
	t.State, t.Started, t.Peers = "running", time.Now(), map[string]int64{}
	ts.update(func() {
		ts.next++
		t.ID = ts.next
		ts.list = append(ts.list, t)
	})
	return t
}

// addProgress feeds an add's progress into its transfer.
type addProgress struct {
	ts *transfers
	t  *Transfer
}

func (p addProgress) Progress(done, total int64) {
	p.ts.update(func() {
		p.t.Done, p.t.Total = done, total
		p.t.m.set(done, total, time.Now())
	})
}

// shareAsync imports a path as a transfer of kind "add", so that callers
// can follow its progress like a get's.
func (a *API) shareAsync(add func(context.Context, string, pollen.AddOptions) (pollen.AddResult, error), path string, opts pollen.AddOptions) int {
	t := a.transfers.start(&Transfer{Kind: "add", Name: filepath.Base(path)})
	a.running.Add(1)
	go func() {
		defer a.running.Done()
		opts.Progress = addProgress{&a.transfers, t}
		res, err := add(a.ctx(), path, opts)
		a.transfers.update(func() {
			if err != nil {
				t.State, t.ErrorKind = "failed", string(pollen.KindOf(err))
				t.Code, t.Error, t.Detail = explain(err, t)
				a.transfers.trim()
				return
			}
			t.State, t.CID, t.Done, t.Total, t.Skipped = "done", res.Root.String(), res.Size, res.Size, res.SkippedHidden
			t.Ticket = a.Node.Ticket(res.Root).String()
			a.transfers.trim()
		})
	}()
	return t.ID
}

// get starts a transfer: POST /api/v1/get {"ref": TICKET or CID (a path
// inside it after a slash), "force": bool, "only": [patterns], "paths":
// [paths inside it]}.
func (a *API) get(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Ref        string   `json:"ref"`
		Force      bool     `json:"force"`
		MaxEntries int      `json:"max_entries"`
		Dir        string   `json:"dir"`  // absolute or ~/...; default DownloadDir
		From       []string `json:"from"` // peer multiaddrs to dial first
		Only       []string `json:"only"` // take only the files matching these patterns
		// Paths takes the files at these paths inside the share, and all
		// under the folders among them (a pick from GET /api/v1/tree).
		Paths []string `json:"paths"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || strings.TrimSpace(req.Ref) == "" {
		apiError(w, http.StatusBadRequest, `want {"ref": "TICKET or CID"}`)
		return
	}
	root, opts, err := ParseRef(req.Ref)
	if err != nil {
		apiError(w, http.StatusBadRequest, "%v", err)
		return
	}
	dir := a.DownloadDir
	if req.Dir = userPath(req.Dir); req.Dir != "" {
		if !filepath.IsAbs(req.Dir) {
			apiError(w, http.StatusBadRequest, "dir %q is not an absolute path", req.Dir)
			return
		}
		dir = req.Dir
	}
	for _, f := range req.From {
		if _, err := peer.AddrInfoFromString(f); err != nil {
			apiError(w, http.StatusBadRequest, "from %q is not a peer multiaddr (/ip4/.../p2p/ID): %v", f, err)
			return
		}
	}
	name := opts.Name
	if opts.Path != "" {
		name = path.Base(opts.Path) // where the get writes it
	}
	if name == "" {
		name = root.String()
	}
	rec := &pollen.GetRecord{
		Ref: strings.TrimSpace(req.Ref), Root: root, Name: name, Dir: dir, Force: req.Force,
		MaxEntries: req.MaxEntries, Only: req.Only, Paths: req.Paths, From: req.From, State: "running", Added: time.Now().UTC(),
	}
	a.controlling.Lock()
	defer a.controlling.Unlock()
	// The same get again (after a restart took it up, say) is the one
	// already there, resumed if paused: two would write the same files.
	if t := a.transfers.sameGet(rec); t != nil {
		if state, _ := a.stateOf(t); state == "paused" {
			if err := a.launch(t); err != nil {
				apiError(w, http.StatusInternalServerError, "%v", err)
				return
			}
		}
		reply(w, map[string]int{"id": t.ID})
		return
	}
	t := a.transfers.start(&Transfer{Kind: "get", CID: root.String(), Name: name, rec: rec})
	if err := a.launch(t); err != nil {
		apiError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	reply(w, map[string]int{"id": t.ID})
}

// getOptions turns a get's record into what Node.Get takes.
func getOptions(rec *pollen.GetRecord) (cid.Cid, pollen.GetOptions, error) {
	root, opts, err := ParseRef(rec.Ref)
	if err != nil {
		return cid.Undef, opts, err
	}
	opts.Force, opts.Stall, opts.MaxEntries, opts.Only, opts.Paths = rec.Force, time.Minute, rec.MaxEntries, rec.Only, rec.Paths
	for _, f := range rec.From {
		p, err := peer.AddrInfoFromString(f)
		if err != nil {
			return cid.Undef, opts, fmt.Errorf("from %q is not a peer multiaddr (/ip4/.../p2p/ID): %v", f, err)
		}
		opts.From = append(opts.From, *p)
	}
	return root, opts, nil
}

func (a *API) ctx() context.Context {
	if a.Context != nil {
		return a.Context
	}
	return context.Background()
}

func (a *API) listTransfers(w http.ResponseWriter, r *http.Request) {
	reply(w, a.transfers.snapshot())
}

// events streams the transfers as Server-Sent Events: a "transfers" event
// with the whole list whenever one changes, at most every 200 ms.
func (a *API) events(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		apiError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	for {
		changed := a.transfers.wait()
		b, _ := json.Marshal(a.transfers.snapshot())
		if _, err := fmt.Fprintf(w, "event: transfers\ndata: %s\n\n", b); err != nil {
			return
		}
		fl.Flush()
		select {
		case <-r.Context().Done():
			return
		case <-changed:
		case <-time.After(2 * time.Second): // rates, ETAs and stalls change with time alone
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ParseRef reads a ticket or a bare CID, with an error that says what is
// wrong; a ticket's peer is dialled first.
func ParseRef(s string) (cid.Cid, pollen.GetOptions, error) { return pollen.ParseRef(s) }

// ParseCID reads a CID the user typed, with an error that says what is
// wrong.
func ParseCID(s string) (cid.Cid, error) {
	c, err := decodeCID(s)
	if err != nil {
		return cid.Undef, fmt.Errorf("%q is not a valid CID: %v", s, err)
	}
	return c, nil
}

// decodeCID decodes s; its error is the innermost cause, since go-cid
// nests "invalid cid:" prefixes.
func decodeCID(s string) (cid.Cid, error) {
	c, err := cid.Decode(strings.TrimSpace(s))
	for err != nil && errors.Unwrap(err) != nil {
		err = errors.Unwrap(err)
	}
	return c, err
}
