package main

import (
	"context"
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
		flags:   storageFlag,
		run:     runStatus,
	})
}

func runStatus(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) != 0 {
		return usagef("status takes no arguments")
	}
	var st ui.Status
	if c := daemonAPI(o); c != nil {
		if err := c.get("/api/v1/status", &st); err != nil {
			return err
		}
	} else {
		node, err := openNode(o)
		if err != nil {
			return err
		}
		defer node.Close()
		if st, err = ui.StatusOf(ctx, node); err != nil {
			return err
		}
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
	fmt.Fprintf(e.stdout, "storage: %s\n", storageLine(pollen.Usage{Quota: st.Quota, Stored: st.Stored, Kept: st.Kept}))
	return nil
}
