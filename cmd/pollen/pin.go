package main

import (
	"context"
	"fmt"

	"github.com/ipfs/go-cid"

	"github.com/pollen-p2p/pollen"
)

func init() {
	for _, pin := range []bool{true, false} {
		c := &command{
			name:    "pin",
			args:    "CID...",
			summary: "keep fetched content whatever --max-storage",
			help: `Fetched content is served on while there is room, and under --max-storage
it is the first to go when room is needed, least recently used first:
'pollen ls' says "evictable". A pinned root is kept, as shared content
is. 'pollen unpin' makes it evictable again.`,
			run: func(ctx context.Context, e *env, o *opts, args []string) error { return runPin(e, o, args, pin) },
		}
		if !pin {
			c.name, c.summary, c.help = "unpin", "let fetched content be evicted when --max-storage needs room", ""
		}
		register(c)
	}
}

func runPin(e *env, o *opts, args []string, pin bool) error {
	verb := map[bool]string{true: "pin", false: "unpin"}[pin]
	roots, err := parseCIDs(verb, args)
	if err != nil {
		return err
	}
	var node *pollen.Node
	c := daemonAPI(o)
	if c == nil {
		n, err := openNode(o)
		if err != nil {
			return err
		}
		defer n.Close()
		node = n
	}
	for _, root := range roots {
		var err error
		if c != nil {
			err = pinVia(c, root, pin)
		} else {
			err = node.Pin(root, pin)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%sned %s\n", verb, root)
	}
	return nil
}

// pinVia pins or unpins root in the running daemon.
func pinVia(c *apiClient, root cid.Cid, pin bool) error {
	var out map[string]string
	return c.call("POST", "/api/v1/pin", map[string]any{"cid": root.String(), "pin": pin}, &out)
}
