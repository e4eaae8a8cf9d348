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
}

// livesOf lists the node's live folders with the tickets of its shares.
func livesOf(n *pollen.Node) ([]Live, error) {
	lvs, err := n.Lives()
	if err != nil {
		return nil, err
	}
	out := []Live{}
	for _, li := range lvs {
		l := Live{LiveInfo: li}
		l.Record = nil // the client has no use for it
		if !li.Follow {
			if t, err := n.LiveTicket(li.Name); err == nil {
				l.Ticket = t.String()
			}
		}
		out = append(out, l)
	}
	return out, nil
}

// listLives answers GET /api/v1/live.
func (a *API) listLives(w http.ResponseWriter, r *http.Request) {
	lvs, err := livesOf(a.Node)
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
	li.Record = nil
	reply(w, Live{LiveInfo: li, Ticket: t.String()})
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
	li.Record = nil
	reply(w, Live{LiveInfo: li})
}

// stopLive answers DELETE /api/v1/live/{name}: the live share or follow
// stops and is forgotten (its versions stay recorded until GC).
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
