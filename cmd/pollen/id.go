package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/pollen-p2p/pollen/ui"
)

func init() {
	register(&command{
		name:    "id",
		args:    "[--listen MULTIADDR]...",
		summary: "print this node's peer ID and the addresses it listens on",
		flags:   func(fs *flag.FlagSet, o *opts) { netFlags(fs, o) },
		run:     runID,
	})
}

func runID(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) != 0 {
		return usagef("id takes no arguments")
	}
	if d := daemonAPI(o); d != nil {
		var st ui.Status
		if err := d.get("/api/v1/status", &st); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "peer    %s\n", st.ID)
		for _, a := range st.Addrs {
			fmt.Fprintf(e.stdout, "address %s\n", a)
		}
		return nil
	}
	o.offline, o.noMDNS = true, true // listening is enough to know the addresses
	node, err := openOnline(o)
	if err != nil {
		return err
	}
	defer node.Close()
	fmt.Fprintf(e.stdout, "peer    %s\n", node.ID())
	for _, a := range node.Addrs() {
		fmt.Fprintf(e.stdout, "address %s\n", a)
	}
	return nil
}
