package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/dustin/go-humanize"
	"github.com/ipfs/go-cid"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/ui"
)

func init() {
	register(&command{
		name:    "get",
		args:    "CID [-o DIR] [--force]",
		summary: "write a file or folder out of the store into DIR",
		help: `The content is written to DIR/NAME, where NAME is the name it was shared
under (or the CID). Each file is written under a temporary name and renamed
when complete. Existing files are never replaced without --force, names
that could leave DIR are refused, and nothing is written through a symlink.
The blocks are kept, so this node serves them on.`,
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.StringVar(&o.out, "o", ".", "folder to write into")
			fs.BoolVar(&o.force, "force", false, "replace existing files")
		},
		run: runGet,
	})
}

func runGet(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) != 1 {
		return usagef("get: want exactly one CID, got %d arguments", len(args))
	}
	root, err := parseCID(args[0])
	if err != nil {
		return err
	}
	node, err := openNode(o)
	if err != nil {
		return err
	}
	defer node.Close()
	bar := ui.NewBar(e.stderr, "get", e.terminal)
	res, err := node.Get(ctx, root, o.out, pollen.GetOptions{Force: o.force, Progress: bar})
	finish(bar, err)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "saved %s (%d %s, %s)\n", res.Path, res.Files, plural(res.Files, "file", "files"), humanize.IBytes(uint64(res.Size)))
	return nil
}

// parseCID reads a CID the user typed, with an error that says what is wrong.
func parseCID(s string) (cid.Cid, error) {
	c, err := cid.Decode(s)
	if err != nil {
		// go-cid nests "invalid cid:" prefixes; the innermost cause says it.
		for errors.Unwrap(err) != nil {
			err = errors.Unwrap(err)
		}
		return cid.Undef, usagef("%q is not a valid CID: %v", s, err)
	}
	return c, nil
}
