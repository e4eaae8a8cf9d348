package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/pollen-p2p/pollen/ui"
)

// pause, resume and cancel are one command each, and one change of a
// get's state: what differs is the verb the daemon is asked.
func init() {
	register(&command{
		name:    "pause",
		args:    "ID",
		summary: "pause a get the running daemon runs; what arrived is kept",
		help: `The get stops fetching at once (no more traffic for it) and waits, paused,
even across a restart of the daemon. What arrived stays in the store and in
the get's temporary files, so 'pollen resume ID' fetches only the rest.
IDs are in 'pollen transfers'.`,
		run: func(ctx context.Context, e *env, o *opts, args []string) error {
			return runControl(e, o, "pause", args)
		},
	})
	register(&command{
		name:    "resume",
		args:    "ID",
		summary: "resume a paused (or failed) get where it stopped",
		help: `The get runs again with the options it was started with, and fetches only
what is not here yet. IDs are in 'pollen transfers'.`,
		run: func(ctx context.Context, e *env, o *opts, args []string) error {
			return runControl(e, o, "resume", args)
		},
	})
	register(&command{
		name:    "cancel",
		args:    "ID",
		summary: "stop a get and forget it",
		help: `The get stops and is no longer listed nor taken up when the daemon starts.
Like an interrupted get it leaves its temporary files (.NAME.pollen-part)
where it was writing: the store points into them for what arrived, and
a later get of the same ticket into the same folder takes them up. The
blocks go at the next 'pollen gc'. IDs are in 'pollen transfers'.`,
		run: func(ctx context.Context, e *env, o *opts, args []string) error {
			return runControl(e, o, "cancel", args)
		},
	})
}

// runControl asks the daemon to pause, resume or cancel a transfer, and
// says the state it is in after.
func runControl(e *env, o *opts, verb string, args []string) error {
	if len(args) != 1 {
		return usagef("%s: want one transfer ID (see 'pollen transfers')", verb)
	}
	id, err := strconv.Atoi(args[0])
	if err != nil || id <= 0 {
		return usagef("%s: %q is not a transfer ID (see 'pollen transfers')", verb, args[0])
	}
	c, err := needDaemon(o)
	if err != nil {
		return err
	}
	var t ui.Transfer
	if err := c.call("POST", fmt.Sprintf("/api/v1/transfers/%d/%s", id, verb), nil, &t); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d\t%s\t%s\n", t.ID, t.State, ui.Escape(t.Name))
	return nil
}
