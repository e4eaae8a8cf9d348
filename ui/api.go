package ui

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/pollen-p2p/pollen"
)

// API is the local HTTP API of a running node: JSON over 127.0.0.1 only.
// Every call needs the token (Authorization: Bearer TOKEN) or the page's
// session (auth.go); the Host header must name the API's own address (no
// DNS rebinding) and a cross-origin request is refused.
type API struct {
	Node  *pollen.Node
	Token string
	// Port is the port the API listens on, for the Host and Origin checks.
	Port string
	// DownloadDir is where gets started through the API write.
	DownloadDir string
	// Context bounds the gets the API starts; nil for none.
	Context context.Context

	transfers   transfers
	logins      logins
	gw          gateways
	rates       rates
	running     sync.WaitGroup // gets in flight
	controlling sync.Mutex     // starts, pauses, resumes and cancels, one at a time
	saving      sync.Mutex     // get records written one at a time (see save)
}

// Wait returns when the gets the API started have stopped (cancel
// Context first): the daemon calls it before it closes the store.
func (a *API) Wait() { a.running.Wait() }

//go:embed web
var webFiles embed.FS

// Handler returns the page and the API's routes behind their checks: the
// page, its files and /login need no credentials (they hold none), the
// API does.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	web, _ := fs.Sub(webFiles, "web")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(web)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, web, "index.html")
	})
	mux.HandleFunc("POST /login", a.login)
	mux.HandleFunc("POST /api/v1/login-link", a.loginLink)
	mux.HandleFunc("POST /api/v1/gc", a.gc)
	mux.HandleFunc("DELETE /api/v1/shares/{cid}", a.remove)
	mux.HandleFunc("POST /api/v1/pin", a.pin)
	mux.Handle("GET /metrics", a.metrics())
	mux.HandleFunc("GET /api/v1/status", a.status)
	mux.HandleFunc("GET /api/v1/shares", a.shares)
	mux.HandleFunc("POST /api/v1/shares", a.share)
	mux.HandleFunc("POST /api/v1/add", a.share)
	mux.HandleFunc("GET /api/v1/cat/{cid}", a.cat)
	mux.HandleFunc("GET /api/v1/car/{cid}", a.exportCAR)
	mux.HandleFunc("POST /api/v1/import", a.importCAR)
	mux.HandleFunc("POST /api/v1/verify", a.verify)
	mux.HandleFunc("GET /api/v1/peers", a.peers)
	mux.HandleFunc("GET /api/v1/doctor", a.doctor)
	mux.HandleFunc("GET /api/v1/tree", a.tree)
	mux.HandleFunc("POST /api/v1/resolve", a.resolve)
	mux.HandleFunc("POST /api/v1/get", a.get)
	mux.HandleFunc("GET /api/v1/transfers", a.listTransfers)
	mux.HandleFunc("DELETE /api/v1/transfers", a.clearTransfers)
	mux.HandleFunc("GET /api/v1/shares/{cid}/qr.svg", a.qr)
	mux.HandleFunc("GET /api/v1/seeding", a.listSeeding)
	mux.HandleFunc("POST /api/v1/seeding/{cid}", a.setSeeding)
	mux.HandleFunc("POST /api/v1/transfers/{id}/pause", a.control)
	mux.HandleFunc("POST /api/v1/transfers/{id}/resume", a.control)
	mux.HandleFunc("POST /api/v1/transfers/{id}/cancel", a.control)
	mux.HandleFunc("DELETE /api/v1/transfers/{id}", a.control)
	mux.HandleFunc("GET /api/v1/events", a.events)
	mux.HandleFunc("GET /ipfs/", a.gateway)
	mux.HandleFunc("HEAD /ipfs/", a.gateway)
	mux.HandleFunc("GET /api/v1/limits", a.getLimits)
	mux.HandleFunc("PUT /api/v1/limits", a.putLimits)
	mux.HandleFunc("GET /api/v1/live", a.listLives)
	mux.HandleFunc("POST /api/v1/live", a.shareLive)
	mux.HandleFunc("DELETE /api/v1/live/{name}", a.stopLive)
	mux.HandleFunc("GET /api/v1/live/{name}/qr.svg", a.liveQR)
	mux.HandleFunc("POST /api/v1/follow", a.follow)
	return a.guard(mux)
}

// apiError answers with {"error": "..."}: one readable line.
func apiError(w http.ResponseWriter, code int, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": fmt.Sprintf(format, args...)})
}

// apiFail answers err with the status of its kind, and the kind, so a
// client (the command line through the daemon) keeps both.
func apiFail(w http.ResponseWriter, err error) {
	k := pollen.KindOf(err)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(k.HTTPStatus())
	json.NewEncoder(w).Encode(map[string]string{"error": err.Error(), "kind": string(k)})
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// Status is the node's identity and storage.
type Status struct {
	ID      string   `json:"id"`
	Addrs   []string `json:"addrs"`
	Repo    string   `json:"repo"`
	Blocks  int      `json:"blocks"`
	Bytes   int64    `json:"bytes"`
	Disk    int64    `json:"disk"`
	Shared  int      `json:"shared"`
	Fetched int      `json:"fetched"`
	// PrivateNetwork: the repo holds a swarm.key (TCP only).
	PrivateNetwork bool `json:"private_network,omitempty"`
	// Quota is --max-storage (0: none); Stored is what the store holds
	// itself (not in files gets wrote), against it; Kept is the part of
	// Stored that shared and pinned content takes, never evicted.
	Quota  int64 `json:"quota,omitempty"`
	Stored int64 `json:"stored"`
	Kept   int64 `json:"kept"`
	// Missing are files gets wrote that are gone since (moved or
	// deleted): what the store kept only in them is no longer served.
	Missing []string `json:"missing,omitempty"`
	// Downloads is where gets through the API write unless told a
	// folder: the page shows it as the default.
	Downloads string `json:"downloads,omitempty"`
}

func (a *API) status(w http.ResponseWriter, r *http.Request) {
	st, err := StatusOf(r.Context(), a.Node)
	if err != nil {
		apiError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	st.Downloads = a.DownloadDir
	reply(w, st)
}

// StatusOf describes a node: identity (when online) and storage.
func StatusOf(ctx context.Context, n *pollen.Node) (Status, error) {
	st, err := n.Stat(ctx)
	if err != nil {
		return Status{}, err
	}
	recs, err := n.List()
	if err != nil {
		return Status{}, err
	}
	u, err := n.Usage(ctx)
	if err != nil {
		return Status{}, err
	}
	s := Status{Repo: n.Dir(), Blocks: st.Blocks, Bytes: st.Bytes, Disk: st.Disk, Quota: u.Quota, Stored: u.Stored, Kept: u.Kept, PrivateNetwork: n.PrivateNetwork()}
	if s.Missing, err = n.MissingFiles(); err != nil {
		return Status{}, err
	}
	if n.Online() {
		s.ID = n.ID().String()
		for _, ad := range n.Addrs() {
			s.Addrs = append(s.Addrs, ad.String())
		}
	}
	for _, r := range recs {
		if r.Kind != pollen.KindShare {
			s.Fetched++
		} else {
			s.Shared++
		}
	}
	return s, nil
}

// Share is a shared or fetched root as the API lists it.
type Share struct {
	Name   string `json:"name"`
	Size   uint64 `json:"size"`
	Kind   string `json:"kind"` // "shared", "pinned" or "evictable" (see KindOf)
	CID    string `json:"cid"`
	Ticket string `json:"ticket"`
	// Private: served only to peers holding the ticket; Allowed: limited
	// to this many named peers.
	Private bool `json:"private,omitempty"`
	Allowed int  `json:"allowed,omitempty"`
	// Seeding is how it is seeded: what it uploaded, to how many peers,
	// since when, and whether it is still served.
	Seeding Seeding `json:"seeding"`
	// Used is when it was last fetched or read (none for a share added
	// before quotas).
	Used *time.Time `json:"used,omitempty"`
	// Live names the live folder this root is a version of: it goes
	// when the folder moves on (KeepVersions) or is stopped.
	Live string `json:"live,omitempty"`
}

func (a *API) shares(w http.ResponseWriter, r *http.Request) {
	out, err := SharesOf(a.Node)
	if err != nil {
		apiError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	reply(w, out)
}

// SharesOf lists what a node shares and keeps; tickets only when online.
func SharesOf(n *pollen.Node) ([]Share, error) {
	recs, err := n.List()
	if err != nil {
		return nil, err
	}
	seeding := map[string]Seeding{}
	if stats, err := n.Seeding(); err == nil {
		for _, st := range stats {
			seeding[st.Root.String()] = SeedingOf(st)
		}
	}
	used, err := n.LastUsed()
	if err != nil {
		return nil, err
	}
	out := []Share{}
	for _, rec := range recs {
		sh := Share{Name: rec.Name, Size: rec.Size, Kind: KindOf(rec), CID: rec.Root.String(), Private: rec.Private(), Allowed: len(rec.Allow), Live: rec.Live}
		if t, ok := used[rec.Root]; ok {
			sh.Used = &t
		}
		if n.Online() {
			sh.Ticket = n.Ticket(rec.Root).String()
		}
		sh.Seeding = seeding[sh.CID]
		out = append(out, sh)
	}
	return out, nil
}

// share imports a path and records it: POST /api/v1/shares announces it
// on the DHT too, POST /api/v1/add does not (`pollen add`).
func (a *API) share(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Path   string `json:"path"`
		Hidden bool   `json:"hidden"`
		Async  bool   `json:"async"` // answer {"id"} at once; follow it in /transfers
		// Private shares only with peers holding the ticket; Allow only
		// with these peer IDs (and makes it private).
		Private bool     `json:"private"`
		Allow   []string `json:"allow"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || strings.TrimSpace(req.Path) == "" {
		apiError(w, http.StatusBadRequest, `want {"path": "..."}`)
		return
	}
	req.Path = userPath(req.Path)
	opts := pollen.AddOptions{Hidden: req.Hidden, Private: req.Private}
	for _, s := range req.Allow {
		id, err := peer.Decode(s)
		if err != nil {
			apiError(w, http.StatusBadRequest, "allow %q: not a peer ID", s)
			return
		}
		opts.Allow = append(opts.Allow, id)
	}
	add := a.Node.Share
	if r.URL.Path == "/api/v1/add" {
		add = a.Node.Add
	}
	if req.Async {
		if _, err := os.Lstat(req.Path); err != nil {
			// Said at once, with a code: the page keeps the path to fix.
			code, sentence, _ := explain(err, &Transfer{Kind: "add"})
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": fmt.Sprintf("%s: %s", req.Path, sentence), "code": code, "detail": fmt.Sprintf("add %s: %v", req.Path, errors.Unwrap(err))})
			return
		}
		reply(w, map[string]int{"id": a.shareAsync(add, req.Path, opts)})
		return
	}
	res, err := add(r.Context(), req.Path, opts)
	if err != nil {
		apiFail(w, err)
		return
	}
	reply(w, Share{Name: res.Name, Size: uint64(res.Size), Kind: "shared", CID: res.Root.String(), Ticket: a.Node.Ticket(res.Root).String()})
}

// Peer is a connection to a peer as the API lists it.
type Peer struct {
	ID      string `json:"id"`
	Addr    string `json:"addr"`
	Relayed bool   `json:"relayed"`
	Kind    string `json:"kind"` // "direct", "relayed" or "hole-punched"
	In      int64  `json:"in"`
	Out     int64  `json:"out"`
}

func (a *API) peers(w http.ResponseWriter, r *http.Request) { reply(w, PeersOf(a.Node)) }

// PeersOf lists an online node's connected peers.
func PeersOf(n *pollen.Node) []Peer {
	out := []Peer{}
	for _, p := range n.Peers() {
		out = append(out, Peer{ID: p.ID.String(), Addr: p.Addr.String(), Relayed: p.Relayed, Kind: string(p.Kind), In: p.Received, Out: p.Sent})
	}
	return out
}

// resolve checks a ticket or CID and says what it names.
func (a *API) resolve(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Ref string `json:"ref"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Ref == "" {
		apiError(w, http.StatusBadRequest, `want {"ref": "TICKET or CID"}`)
		return
	}
	c, o, err := ParseRef(req.Ref)
	if err != nil {
		apiError(w, http.StatusBadRequest, "%v", err)
		return
	}
	reply(w, map[string]string{"cid": c.String(), "name": o.Name})
}

func (a *API) gc(w http.ResponseWriter, r *http.Request) {
	res, err := a.Node.GC(r.Context())
	if err != nil {
		apiError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	reply(w, map[string]int64{"removed": int64(res.Removed), "kept": int64(res.Kept), "freed": res.FreedBytes})
}

// cat streams a file's bytes: GET /api/v1/cat/{cid}. A file whose
// blocks are not all here is refused before anything is sent.
func (a *API) cat(w http.ResponseWriter, r *http.Request) {
	c, err := ParseCID(r.PathValue("cid"))
	if err != nil {
		apiError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if err := a.Node.Complete(r.Context(), c); err != nil {
		apiError(w, http.StatusNotFound, "%v", err)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	cw := &countingWriter{w: w}
	if err := a.Node.Cat(r.Context(), c, cw); err != nil {
		if cw.n == 0 { // a folder, say: nothing sent yet, so say why
			apiError(w, http.StatusBadRequest, "%v", err)
			return
		}
		// Too late for a status: cut the answer short, so the client
		// sees a broken body rather than a short file.
		panic(http.ErrAbortHandler)
	}
}

// Verified is what POST /api/v1/verify found.
type Verified struct {
	Checked int      `json:"checked"`
	Corrupt []string `json:"corrupt"`
	Files   []string `json:"files"` // files a get wrote that changed since
	Dropped int      `json:"dropped"`
}

func (a *API) verify(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Drop bool `json:"drop"`
	}
	if r.ContentLength != 0 {
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			apiError(w, http.StatusBadRequest, `want {"drop": false}`)
			return
		}
	}
	res, err := a.Node.Verify(r.Context(), req.Drop)
	if err != nil {
		apiError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	out := Verified{Checked: res.Checked, Corrupt: []string{}, Files: res.Files, Dropped: res.Dropped}
	for _, c := range res.Corrupt {
		out.Corrupt = append(out.Corrupt, c.String())
	}
	reply(w, out)
}

func (a *API) remove(w http.ResponseWriter, r *http.Request) {
	c, err := ParseCID(r.PathValue("cid"))
	if err != nil {
		apiError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if err := a.Node.Remove(c); err != nil {
		apiFail(w, err)
		return
	}
	reply(w, map[string]string{"removed": c.String()})
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
