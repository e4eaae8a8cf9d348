package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ipfs/go-cid"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/pollen-p2p/pollen"
)

// followReach tells, until ctx ends, what the node learns of how peers
// reach it: a line on stderr when that changes, and when the addresses
// a stranger can dial change (public ones, a port its router mapped,
// those through relays), the tickets of roots again with them: the
// first tickets, printed before any of that was known, may work only on
// the LAN.
func followReach(ctx context.Context, e *env, node *pollen.Node, roots []cid.Cid) {
	said := ""
	var dialable []string
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
		relays := 0
		for _, a := range node.AddrInfo().Addrs {
			switch {
			case strings.Contains(a.String(), "/p2p-circuit"):
				relays++
			case !manet.IsPublicAddr(a):
				continue
			}
			now = append(now, a.String())
		}
		slices.Sort(now)
		if !slices.Equal(now, dialable) {
			dialable = now
			if len(now) > 0 {
				if relays > 0 {
					fmt.Fprintf(e.stderr, "reachable through %d relay %s\n", relays, plural(relays, "address", "addresses"))
				}
				if n := len(now) - relays; n > 0 {
					fmt.Fprintf(e.stderr, "reachable at %d public %s\n", n, plural(n, "address", "addresses"))
				}
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
