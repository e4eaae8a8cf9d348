package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/ui"
)

func init() {
	register(&command{
		name:    "verify",
		args:    "[--drop]",
		summary: "re-hash every stored block and report corrupt ones",
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.BoolVar(&o.drop, "drop", false, "delete corrupt blocks so they can be fetched again")
		},
		run: runVerify,
	})
}

func runVerify(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) != 0 {
		return usagef("verify takes no arguments")
	}
	var res ui.Verified
	err := viaNode(o, "POST", "/api/v1/verify", map[string]bool{"drop": o.drop}, &res, func(node *pollen.Node) error {
		r, err := node.Verify(ctx, o.drop)
		if err != nil {
			return err
		}
		res = ui.Verified{Checked: r.Checked, Dropped: r.Dropped, Files: r.Files}
		for _, c := range r.Corrupt {
			res.Corrupt = append(res.Corrupt, c.String())
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, c := range res.Corrupt {
		fmt.Fprintf(e.stdout, "corrupt %s\n", c)
	}
	for _, f := range res.Files {
		fmt.Fprintf(e.stdout, "changed %s (edited, moved or deleted since it was fetched, so this node no longer serves what it held: get it again, into another folder or with --force)\n", strconv.Quote(f))
	}
	fmt.Fprintf(e.stdout, "checked %d %s: %d corrupt", res.Checked, plural(res.Checked, "block", "blocks"), len(res.Corrupt))
	if o.drop {
		fmt.Fprintf(e.stdout, ", %d dropped", res.Dropped)
	}
	fmt.Fprintln(e.stdout)
	if len(res.Corrupt) > res.Dropped {
		return fmt.Errorf("%d corrupt %s (run 'pollen verify --drop' to remove them)", len(res.Corrupt), plural(len(res.Corrupt), "block", "blocks"))
	}
	return nil
}
