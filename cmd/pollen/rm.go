package main

import (
	"context"
	"fmt"

	"github.com/ipfs/go-cid"
)

func init() {
	register(&command{
		name:    "rm",
		args:    "CID...",
		summary: "stop sharing and keeping a root; 'pollen gc' then frees its blocks",
		run:     runRm,
	})
}

func runRm(ctx context.Context, e *env, o *opts, args []string) error {
	roots, err := parseCIDs("rm", args)
	if err != nil {
		return err
	}
	remove := func(c cid.Cid) error { return nil }
	if d := daemonAPI(o); d != nil {
		remove = func(c cid.Cid) error { return d.call("DELETE", "/api/v1/shares/"+c.String(), nil, &struct{}{}) }
	} else {
		node, err := openNode(o)
		if err != nil {
			return err
		}
		defer node.Close()
		remove = node.Remove
	}
	for _, c := range roots {
		if err := remove(c); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "removed %s\n", c)
	}
	return nil
}
