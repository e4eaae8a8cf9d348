package main

import (
	"context"
	"fmt"
)

func init() {
	register(&command{
		name:    "page",
		args:    "",
		summary: "print a new one-time login link for the running daemon's page",
		help: `The link logs one browser into the daemon's page and then no longer works
(it also expires after 15 minutes unused), so a terminal's scrollback or a
browser's history holds nothing that opens the page again. Run this again
for each browser, or after the daemon restarts.`,
		run: runPage,
	})
}

func runPage(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) != 0 {
		return usagef("page takes no arguments")
	}
	c, err := needDaemon(o)
	if err != nil {
		return err
	}
	var link struct{ URL string }
	if err := c.call("POST", "/api/v1/login-link", nil, &link); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, link.URL)
	return nil
}
