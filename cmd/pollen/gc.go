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
	node, err := openNode(o)
	if err != nil {
		return err
	}
	defer node.Close()
	res, err := node.GC(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "removed %d %s (%s), kept %d\n", res.Removed, plural(res.Removed, "block", "blocks"), humanize.IBytes(uint64(res.FreedBytes)), res.Kept)
	return nil
}
