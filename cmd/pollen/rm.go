package main

import (
	"context"
	"fmt"
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
	if len(args) == 0 {
		return usagef("rm: no CID given")
	}
	node, err := openNode(o)
	if err != nil {
		return err
	}
	defer node.Close()
	for _, a := range args {
		c, err := parseCID(a)
		if err != nil {
			return err
		}
		if err := node.Remove(c); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "removed %s\n", c)
	}
	return nil
}
