package main

import (
	"context"
	"fmt"

	"github.com/dustin/go-humanize"
)

func init() {
	register(&command{
		name:    "status",
		args:    "",
		summary: "show the repository: path, blocks, bytes, shares",
		run:     runStatus,
	})
}

func runStatus(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) != 0 {
		return usagef("status takes no arguments")
	}
	node, err := openNode(o)
	if err != nil {
		return err
	}
	defer node.Close()
	st, err := node.Stat(ctx)
	if err != nil {
		return err
	}
	recs, err := node.List()
	if err != nil {
		return err
	}
	shared, kept := 0, 0
	for _, r := range recs {
		if r.Kind == "pin" {
			kept++
		} else {
			shared++
		}
	}
	fmt.Fprintf(e.stdout, "repo:    %s\n", node.Dir())
	fmt.Fprintf(e.stdout, "blocks:  %d\n", st.Blocks)
	fmt.Fprintf(e.stdout, "bytes:   %s (%d)\n", humanize.IBytes(uint64(st.Bytes)), st.Bytes)
	fmt.Fprintf(e.stdout, "on disk: %s\n", humanize.IBytes(uint64(st.Disk)))
	fmt.Fprintf(e.stdout, "shared:  %d\n", shared)
	fmt.Fprintf(e.stdout, "fetched: %d\n", kept)
	return nil
}
