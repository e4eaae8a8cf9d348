package main

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/dustin/go-humanize"

	"github.com/pollen-p2p/pollen/ui"
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
	var shares []ui.Share
	var missing []string
	if c := daemonAPI(o); c != nil {
		if err := c.get("/api/v1/shares", &shares); err != nil {
			return err
		}
		var st ui.Status
		if err := c.get("/api/v1/status", &st); err != nil {
			return err
		}
		missing = st.Missing
	} else {
		node, err := openNode(o)
		if err != nil {
			return err
		}
		defer node.Close()
		if shares, err = ui.SharesOf(node); err != nil {
			return err
		}
		if missing, err = node.MissingFiles(); err != nil {
			return err
		}
	}
	defer func() {
		for _, f := range missing {
			fmt.Fprintf(e.stderr, "missing %s: moved or deleted since it was fetched; get it again to serve it\n", strconv.Quote(f))
		}
	}()
	if len(shares) == 0 {
		fmt.Fprintln(e.stderr, "nothing shared yet: try 'pollen add PATH'")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSIZE\tKIND\tCID")
	for _, s := range shares {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", ui.Escape(s.Name), humanize.IBytes(s.Size), s.Kind, s.CID)
	}
	return tw.Flush()
}
