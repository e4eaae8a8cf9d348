package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/pollen-p2p/pollen/ui"
)

func init() {
	register(&command{
		name:    "peers",
		args:    "[--wait DURATION]",
		summary: "list connected peers (the daemon's, or go online for a moment to find some)",
		flags: func(fs *flag.FlagSet, o *opts) {
			netFlags(fs, o)
			jsonFlag(fs, o)
			fs.DurationVar(&o.wait, "wait", 3*time.Second, "how long to discover peers before listing them")
		},
		run: runPeers,
	})
}

func runPeers(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) != 0 {
		return usagef("peers takes no arguments")
	}
	var peers []ui.Peer
	if c := daemonAPI(o); c != nil {
		if err := c.get("/api/v1/peers", &peers); err != nil {
			return err
		}
	} else {
		node, err := openOnline(o)
		if err != nil {
			return err
		}
		defer node.Close()
		select {
		case <-time.After(o.wait):
		case <-ctx.Done():
		}
		peers = ui.PeersOf(node)
	}
	if o.json {
		if peers == nil {
			peers = []ui.Peer{}
		}
		return printJSON(e, peers)
	}
	if len(peers) == 0 {
		fmt.Fprintln(e.stderr, "no peers connected")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PEER\tADDRESS\tVIA\tIN\tOUT")
	for _, p := range peers {
		via := p.Kind
		if via == "" { // a daemon from before connection kinds
			via = map[bool]string{true: "relayed", false: "direct"}[p.Relayed]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.ID, p.Addr, via, humanize.IBytes(uint64(p.In)), humanize.IBytes(uint64(p.Out)))
	}
	return tw.Flush()
}
