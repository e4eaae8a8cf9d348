package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/dustin/go-humanize"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/ui"
)

func init() {
	register(&command{
		name:    "status",
		args:    "",
		summary: "show the repository: path, blocks, bytes, shares",
		flags:   func(fs *flag.FlagSet, o *opts) { storageFlag(fs, o); jsonFlag(fs, o) },
		run:     runStatus,
	})
}

func runStatus(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) != 0 {
		return usagef("status takes no arguments")
	}
	var st ui.Status
	err := viaNode(o, "GET", "/api/v1/status", nil, &st, func(node *pollen.Node) (err error) {
		st, err = ui.StatusOf(ctx, node)
		return err
	})
	if err != nil {
		return err
	}
	if o.json {
		return printJSON(e, st)
	}
	fmt.Fprintf(e.stdout, "repo:    %s\n", ui.Escape(st.Repo))
	if st.ID != "" {
		fmt.Fprintf(e.stdout, "daemon:  running, peer %s\n", st.ID)
	}
	fmt.Fprintf(e.stdout, "blocks:  %d\n", st.Blocks)
	fmt.Fprintf(e.stdout, "bytes:   %s (%d)\n", humanize.IBytes(uint64(st.Bytes)), st.Bytes)
	fmt.Fprintf(e.stdout, "on disk: %s\n", humanize.IBytes(uint64(st.Disk)))
	fmt.Fprintf(e.stdout, "shared:  %d\n", st.Shared)
	fmt.Fprintf(e.stdout, "fetched: %d\n", st.Fetched)
	if st.PrivateNetwork {
		fmt.Fprintln(e.stdout, "network: private (swarm.key): only nodes holding the same key, over TCP")
	}
	fmt.Fprintf(e.stdout, "storage: %s\n", storageLine(pollen.Usage{Quota: st.Quota, Stored: st.Stored, Kept: st.Kept}))
	return nil
}
