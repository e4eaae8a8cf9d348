package main

import (
	"context"
	"flag"
	"fmt"
)

func init() {
	register(&command{
		name:    "seed",
		args:    "[--listen MULTIADDR]...",
		summary: "serve everything stored (shared and fetched) until Ctrl-C",
		flags:   func(fs *flag.FlagSet, o *opts) { netFlags(fs, o); seedFlags(fs, o) },
		run:     runSeed,
	})
}

func runSeed(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) != 0 {
		return usagef("seed takes no arguments")
	}
	node, err := openOnline(o)
	if err != nil {
		return err
	}
	defer node.Close()
	recs, err := node.List()
	if err != nil {
		return err
	}
	for _, r := range recs {
		fmt.Fprintf(e.stdout, "CID     %s\n", r.Root)
		fmt.Fprintf(e.stdout, "ticket  %s\n", node.Ticket(r.Root))
	}
	serve(ctx, e, node)
	return nil
}
