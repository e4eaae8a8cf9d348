package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/dustin/go-humanize"
)

func init() {
	register(&command{
		name:    "ls",
		args:    "",
		summary: "list what this node shares and keeps: name, size, CID",
		run:     runLs,
	})
}

func runLs(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) != 0 {
		return usagef("ls takes no arguments")
	}
	node, err := openNode(o)
	if err != nil {
		return err
	}
	defer node.Close()
	recs, err := node.List()
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		fmt.Fprintln(e.stderr, "nothing shared yet: try 'pollen add PATH'")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSIZE\tKIND\tCID")
	for _, r := range recs {
		kind := "shared"
		if r.Kind == "pin" {
			kind = "fetched"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, humanize.IBytes(r.Size), kind, r.Root)
	}
	return tw.Flush()
}
