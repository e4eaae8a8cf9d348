package ui

import (
	"net/http"
	"strings"
	"sync"

	"github.com/ipfs/boxo/gateway"
	"github.com/ipfs/go-cid"
)

// The daemon's gateway: /ipfs/CID/path as IPFS gateways answer it (files
// with Range, folder listings, ?format=raw and ?format=car), on the
// API's port and behind its credentials: it is for this machine's user,
// not a public gateway. What is missing is fetched from peers as the
// reader asks for it, so a video plays while it downloads; a private
// share's missing blocks are asked of no one (its holders are reached by
// its get, not by Bitswap's broadcast).

// gateways are the two gateways a request may go to: one that fetches,
// and one that reads only what is here.
type gateways struct {
	once            sync.Once
	fetching, local http.Handler
	err             error
}

func (a *API) gateway(w http.ResponseWriter, r *http.Request) {
	g := &a.gw
	g.once.Do(func() {
		conf := gateway.Config{DeserializedResponses: true, NoDNSLink: true, DisableHTMLErrors: true}
		fetching, err := gateway.NewBlocksBackend(a.Node.BlockService(true))
		if err != nil {
			g.err = err
			return
		}
		local, err := gateway.NewBlocksBackend(a.Node.BlockService(false))
		if err != nil {
			g.err = err
			return
		}
		g.fetching, g.local = gateway.NewHandler(conf, fetching), gateway.NewHandler(conf, local)
	})
	if g.err != nil {
		apiError(w, http.StatusInternalServerError, "gateway: %v", g.err)
		return
	}
	if root, ok := gatewayRoot(r.URL.Path); ok && a.Node.Private(root) {
		g.local.ServeHTTP(w, r)
		return
	}
	g.fetching.ServeHTTP(w, r)
}

// gatewayRoot is the CID a gateway path starts at.
func gatewayRoot(p string) (cid.Cid, bool) {
	rest, ok := strings.CutPrefix(p, "/ipfs/")
	if !ok {
		return cid.Undef, false
	}
	first, _, _ := strings.Cut(rest, "/")
	c, err := cid.Decode(first)
	return c, err == nil
}
