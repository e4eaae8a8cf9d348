package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/dustin/go-humanize"

	"github.com/pollen-p2p/pollen/ui"
)

func init() {
	register(&command{
		name:    "transfers",
		args:    "",
		summary: "list the running daemon's gets and adds: ID, state, progress, rate, peers",
		help: `Lists what the daemon fetches and imports, one a line: its ID (for 'pollen
pause', 'resume' and 'cancel'), its state (running, paused, done, failed,
canceled), its name, how much of it is here, the rate and the peers it
comes from now. Gets a daemon runs or holds paused are recorded in the
repo and listed again after it restarts; of those that ended it lists
the last 100.`,
		run: runTransfers,
	})
}

func runTransfers(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) != 0 {
		return usagef("transfers takes no arguments")
	}
	c, err := needDaemon(o)
	if err != nil {
		return err
	}
	var list []ui.Transfer
	if err := c.get("/api/v1/transfers", &list); err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(e.stderr, "no transfers: 'pollen get TICKET' starts one")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tNAME\tDONE\tRATE\tPEERS")
	for _, t := range list {
		done := humanize.IBytes(uint64(t.Done))
		if t.Total > 0 {
			done = fmt.Sprintf("%s/%s (%d%%)", done, humanize.IBytes(uint64(t.Total)), 100*t.Done/t.Total)
		}
		rate := "-"
		if t.State == "running" {
			rate = humanize.IBytes(uint64(t.Rate)) + "/s"
			if t.Stalled {
				rate = "stalled"
			} else if t.Looking {
				rate = "looking"
			}
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\n", t.ID, t.State, ui.Escape(t.Name), done, rate, len(t.Peers))
	}
	return tw.Flush()
}
