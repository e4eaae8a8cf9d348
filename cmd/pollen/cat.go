package main

import (
	"context"
)

func init() {
	register(&command{
		name:    "cat",
		args:    "CID",
		summary: "write the content of a file to standard output",
		run:     runCat,
	})
}

func runCat(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) != 1 {
		return usagef("cat: want exactly one CID, got %d arguments", len(args))
	}
	root, err := parseCID(args[0])
	if err != nil {
		return err
	}
	if d := daemonAPI(o); d != nil { // the daemon holds the repo
		return d.stream("/api/v1/cat/"+root.String(), e.data)
	}
	node, err := openNode(o)
	if err != nil {
		return err
	}
	defer node.Close()
	return node.Cat(ctx, root, e.data)
}
