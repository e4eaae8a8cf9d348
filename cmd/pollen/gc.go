package main

import (
	"context"
	"fmt"

	"github.com/dustin/go-humanize"
	"github.com/pollen-p2p/pollen"
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
	err := viaNode(o, "POST", "/api/v1/gc", nil, &res, func(node *pollen.Node) error {
		r, err := node.GC(ctx)
		res.Removed, res.Kept, res.Freed = int64(r.Removed), int64(r.Kept), r.FreedBytes
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "removed %d %s (%s), kept %d\n", res.Removed, plural(int(res.Removed), "block", "blocks"), humanize.IBytes(uint64(res.Freed)), res.Kept)
	return nil
}
