package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen"
)

// tellRoutes says, for each peer that sent part of a get, how much, how
// fast, and how this node reached it: directly, through a relay, or
// directly after starting through a relay (a hole punched through the
// NATs). A transfer that crawls through a relay should say so.
func tellRoutes(e *env, node *pollen.Node, got map[peer.ID]int64, took time.Duration) {
	conns := map[peer.ID][]pollen.PeerInfo{}
	for _, p := range node.Peers() {
		conns[p.ID] = append(conns[p.ID], p)
	}
	ids := make([]peer.ID, 0, len(got))
	for id := range got {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		rate := ""
		if s := took.Seconds(); s > 0 {
			rate = fmt.Sprintf(" at %s/s", humanize.IBytes(uint64(float64(got[id])/s)))
		}
		fmt.Fprintf(e.stderr, "  from %s: %s%s, %s\n", id, humanize.IBytes(uint64(got[id])), rate, route(conns[id]))
	}
}

// route names how the connections to one peer go.
func route(cs []pollen.PeerInfo) string {
	var direct, relayed []string
	punched := false
	for _, c := range cs {
		punched = punched || c.Kind == pollen.ConnHolePunched
		if c.Relayed {
			relayed = append(relayed, relayOf(c.Addr.String()))
		} else {
			direct = append(direct, c.Addr.String())
		}
	}
	switch {
	case punched || len(direct) > 0 && len(relayed) > 0:
		return "direct (hole punched; first reached through a relay)"
	case len(direct) > 0:
		return "direct"
	case len(relayed) > 0:
		return "relayed through " + relayed[0]
	}
	return "no longer connected"
}

// relayOf returns the relay's part of a circuit address.
func relayOf(addr string) string {
	before, _, _ := strings.Cut(addr, "/p2p-circuit")
	return before
}

// sayPunched prints, until ctx ends, when a peer first reached through a
// relay is also reached directly: a hole was punched, and the transfer
// moves to the direct connection.
func sayPunched(ctx context.Context, e *env, node *pollen.Node, start time.Time) {
	said := map[peer.ID]bool{}
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for last := false; !last; {
		select {
		case <-ctx.Done():
			// One last look: a punch quicker than a tick, in a get
			// quicker than two, would go unsaid.
			last = true
		case <-t.C:
		}
		kinds := map[peer.ID][3]bool{} // direct, relayed, hole punched
		for _, p := range node.Peers() {
			k := kinds[p.ID]
			k[0], k[1] = k[0] || !p.Relayed, k[1] || p.Relayed
			k[2] = k[2] || p.Kind == pollen.ConnHolePunched
			kinds[p.ID] = k
		}
		for id, k := range kinds {
			if (k[2] || k[0] && k[1]) && !said[id] {
				said[id] = true
				fmt.Fprintf(e.stderr, "hole punched to %s after %s: the transfer moves to the direct connection\n", id, time.Since(start).Round(100*time.Millisecond))
			}
		}
	}
}
