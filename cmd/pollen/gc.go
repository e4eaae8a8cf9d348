package main

import (
	"context"
	"fmt"

	"github.com/dustin/go-humanize"
)

func init() {
	register(&command{
		name:    "gc",
		args:    "",
		summary: "delete blocks nothing shared or kept needs, and reclaim the disk space",
		run:     runGC,
	})
}

func runGC(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) != 0 {
		return usagef("gc takes no arguments")
	}
	var res struct{ Removed, Kept, Freed int64 }
	if d := daemonAPI(o); d != nil {
		if err := d.call("POST", "/api/v1/gc", nil, &res); err != nil {
			return err
		}
	} else {
		node, err := openNode(o)
		if err != nil {
			return err
		}
		defer node.Close()
		r, err := node.GC(ctx)
		if err != nil {
			return err
		}
		res.Removed, res.Kept, res.Freed = int64(r.Removed), int64(r.Kept), r.FreedBytes
	}
	fmt.Fprintf(e.stdout, "removed %d %s (%s), kept %d\n", res.Removed, plural(int(res.Removed), "block", "blocks"), humanize.IBytes(uint64(res.Freed)), res.Kept)
	return nil
}
