package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"
)

func init() {
	register(&command{
		name:    "peers",
		args:    "[--wait DURATION]",
		summary: "go online, discover peers for a moment, and list the connected ones",
		flags: func(fs *flag.FlagSet, o *opts) {
			netFlags(fs, o)
			fs.DurationVar(&o.wait, "wait", 3*time.Second, "how long to discover peers before listing them")
		},
		run: runPeers,
	})
}

func runPeers(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) != 0 {
		return usagef("peers takes no arguments")
	}
	node, err := openOnline(o)
	if err != nil {
		return err
	}
	defer node.Close()
	select {
	case <-time.After(o.wait):
	case <-ctx.Done():
	}
	peers := node.Peers()
	if len(peers) == 0 {
		fmt.Fprintln(e.stderr, "no peers connected")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PEER\tADDRESS\tVIA\tIN\tOUT")
	for _, p := range peers {
		via := "direct"
		if p.Relayed {
			via = "relay"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.ID, p.Addr, via, humanize.IBytes(uint64(p.Received)), humanize.IBytes(uint64(p.Sent)))
	}
	return tw.Flush()
}
