package ui

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/pollen-p2p/pollen"
)

// carType is a CAR's media type (IPIP-0412, as gateways answer).
const carType = "application/vnd.ipld.car"

// exportCAR streams a DAG as a CARv1: GET /api/v1/car/{cid}. A DAG not
// here whole is refused before anything is sent.
func (a *API) exportCAR(w http.ResponseWriter, r *http.Request) {
	c, err := ParseCID(r.PathValue("cid"))
	if err != nil {
		apiError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if err := a.Node.Complete(r.Context(), c); err != nil {
		apiError(w, http.StatusNotFound, "%v", err)
		return
	}
	w.Header().Set("Content-Type", carType+"; version=1")
	if err := a.Node.ExportCAR(r.Context(), c, w); err != nil {
		panic(http.ErrAbortHandler) // too late for a status: a broken body, not a short file
	}
}

// Imported is what POST /api/v1/import kept.
type Imported struct {
	Roots   []string `json:"roots"`
	Partial []string `json:"partial,omitempty"`
	Blocks  int      `json:"blocks"`
}

// importCAR stores a CAR: POST /api/v1/import, with the CAR as the body
// (Content-Type application/vnd.ipld.car) or {"path": "/abs/file.car"}
// for a file on this machine.
func (a *API) importCAR(w http.ResponseWriter, r *http.Request) {
	var in io.Reader = r.Body
	if !strings.HasPrefix(r.Header.Get("Content-Type"), carType) {
		var req struct {
			Path string `json:"path"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Path == "" {
			apiError(w, http.StatusBadRequest, `want a CAR (Content-Type %s) or {"path": "..."}`, carType)
			return
		}
		f, err := os.Open(req.Path)
		if err != nil {
			apiError(w, http.StatusBadRequest, "import: %v", err)
			return
		}
		defer f.Close()
		in = f
	}
	res, err := a.Node.ImportCAR(r.Context(), in)
	if err != nil {
		apiFail(w, err)
		return
	}
	reply(w, ImportedOf(res))
}

// ImportedOf converts what a node imported.
func ImportedOf(res pollen.ImportResult) Imported {
	out := Imported{Roots: []string{}, Blocks: res.Blocks}
	for _, c := range res.Roots {
		out.Roots = append(out.Roots, c.String())
	}
	for _, c := range res.Partial {
		out.Partial = append(out.Partial, c.String())
	}
	return out
}
