package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/ipfs/go-cid"

	"github.com/pollen-p2p/pollen"
)

// followReach tells, until ctx ends, what the node learns of how peers
// reach it: a line on stderr when that changes, and when its addresses
// through relays change, the tickets of roots again with them (the
// first tickets, printed before any relay was found, work only where
// this node can be dialled).
func followReach(ctx context.Context, e *env, node *pollen.Node, roots []cid.Cid) {
	said := ""
	var relays []string
	for {
		r, changed := node.Reach()
		if changed == nil {
			return
		}
		if s := r.Summary(); s != said && r.Reachability != 0 {
			fmt.Fprintf(e.stderr, "reachability: %s\n", s)
			said = s
		}
		var now []string
		for _, a := range r.RelayAddrs {
			now = append(now, a.String())
		}
		slices.Sort(now)
		if !slices.Equal(now, relays) {
			relays = now
			if len(now) > 0 {
				fmt.Fprintf(e.stderr, "reachable through %d relay %s\n", len(now), plural(len(now), "address", "addresses"))
				for _, root := range roots {
					fmt.Fprintf(e.stdout, "ticket  %s\n", node.Ticket(root))
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}
