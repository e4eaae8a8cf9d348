package ui

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen"
)

// Live folders through the API: the daemon holds the repo, so a live
// share or a follow started by the command line while it runs is the
// daemon's to run (and to take up again after a restart: ResumeLives).

// Live is a live share or follow as the API lists it: what ls shows,
// and for a live share its ticket.
type Live struct {
	pollen.LiveInfo
	Ticket string `json:"ticket,omitempty"`
	// Why is Err in one sentence for people (plain.go).
	Why string `json:"why,omitempty"`
}

// liveOf is li as the API shows it, with its ticket when t is not "".
func liveOf(li pollen.LiveInfo, t string) Live {
	li.Record = nil // the client has no use for it
	return Live{LiveInfo: li, Ticket: t, Why: liveWhy(li)}
}

// LivesOf lists the node's live folders, with the tickets of its shares
// when it is online (a ticket holds the node's addresses).
func LivesOf(n *pollen.Node) ([]Live, error) {
	lvs, err := n.Lives()
	if err != nil {
		return nil, err
	}
	out := []Live{}
	for _, li := range lvs {
		ticket := ""
		if !li.Follow && n.Online() {
			if t, err := n.LiveTicket(li.Name); err == nil {
				ticket = t.String()
			}
		}
		out = append(out, liveOf(li, ticket))
	}
	return out, nil
}

// listLives answers GET /api/v1/live.
func (a *API) listLives(w http.ResponseWriter, r *http.Request) {
	lvs, err := LivesOf(a.Node)
	if err != nil {
		apiFail(w, err)
		return
	}
	reply(w, lvs)
}

// shareLive answers POST /api/v1/live {"dir": ...}: the folder is
// shared live by the daemon, which answers with its name and ticket.
func (a *API) shareLive(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Dir string `json:"dir"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || strings.TrimSpace(req.Dir) == "" {
		apiError(w, http.StatusBadRequest, `want {"dir": "..."}`)
		return
	}
	li, err := a.Node.ShareLive(r.Context(), userPath(req.Dir))
	if err != nil {
		apiFail(w, err)
		return
	}
	t, err := a.Node.LiveTicket(li.Name)
	if err != nil {
		apiFail(w, err)
		return
	}
	reply(w, liveOf(li, t.String()))
}

// follow answers POST /api/v1/follow {"ticket": ..., "dir": ...}: the
// daemon keeps dir a mirror of the ticket's live folder.
func (a *API) follow(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Ticket string `json:"ticket"`
		Dir    string `json:"dir"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Ticket == "" || strings.TrimSpace(req.Dir) == "" {
		apiError(w, http.StatusBadRequest, `want {"ticket": "...", "dir": "..."}`)
		return
	}
	t, err := pollen.ParseLive(req.Ticket)
	if err != nil {
		apiError(w, http.StatusBadRequest, "%v", err)
		return
	}
	li, err := a.Node.Follow(r.Context(), t, userPath(req.Dir))
	if err != nil {
		apiFail(w, err)
		return
	}
	reply(w, liveOf(li, ""))
}

// stopLive answers DELETE /api/v1/live/{name}: the live share or follow
// stops and is forgotten; its files stay, its versions' records go
// (GC then frees their blocks).
func (a *API) stopLive(w http.ResponseWriter, r *http.Request) {
	name, err := peer.Decode(r.PathValue("name"))
	if err != nil {
		apiError(w, http.StatusBadRequest, "%q: not a live folder's name", r.PathValue("name"))
		return
	}
	if err := a.Node.StopLive(name); err != nil {
		apiFail(w, err)
		return
	}
	reply(w, map[string]string{"stopped": name.String()})
}

// liveQR answers GET /api/v1/live/{name}/qr.svg: a live share's ticket
// as a QR code, as qr does for a share's.
func (a *API) liveQR(w http.ResponseWriter, r *http.Request) {
	name, err := peer.Decode(r.PathValue("name"))
	if err != nil {
		apiError(w, http.StatusBadRequest, "%q: not a live folder's name", r.PathValue("name"))
		return
	}
	if !a.Node.Online() {
		apiError(w, http.StatusServiceUnavailable, "the node is offline: a ticket needs its addresses")
		return
	}
	t, err := a.Node.LiveTicket(name)
	if err != nil {
		apiFail(w, err)
		return
	}
	svg, err := qrSVG(t.String())
	if err != nil {
		apiError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Write([]byte(svg))
}
