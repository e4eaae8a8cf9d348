package main

import (
	"context"
	"flag"
	"fmt"
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
	node, err := openNode(o)
	if err != nil {
		return err
	}
	defer node.Close()
	res, err := node.Verify(ctx, o.drop)
	if err != nil {
		return err
	}
	for _, c := range res.Corrupt {
		fmt.Fprintf(e.stdout, "corrupt %s\n", c)
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
