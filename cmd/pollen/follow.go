package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/ui"
)

func init() {
	register(&command{
		name:    "follow",
		args:    "TICKET -o DIR",
		summary: "keep DIR a mirror of a live folder, fetching only what changed",
		help: `TICKET is a live folder's ticket ('pollen share --live'). pollen fetches its
newest version into DIR, then each new version as the sharer publishes it:
only the blocks it lacks, each changed file written beside and renamed into
place, files deleted upstream deleted here. Files you add or edit in DIR are
yours: they are never replaced nor deleted, and are reported as conflicts.
Each version is checked against the folder's key: a forged or older version
is refused. While it runs, this node serves the versions it holds to other
followers. A follower that was away catches up to the newest version.`,
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.StringVar(&o.out, "o", "", "the mirror folder")
			netFlags(fs, o)
		},
		run: runFollow,
	})
}

func runFollow(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) != 1 {
		return usagef("follow: want exactly one ticket, got %d arguments", len(args))
	}
	if o.out == "" {
		return usagef("follow: -o DIR names the mirror folder")
	}
	t, err := pollen.ParseTicket(args[0])
	if err != nil {
		return usagef("%v", err)
	}
	if t.Live == "" {
		return usagef("follow: not a live folder's ticket (use 'pollen get' for a share)")
	}
	if daemonAPI(o) != nil {
		return usagef("follow: not yet through a running daemon; stop it, or run follow with another --repo")
	}
	node, err := openOnline(o)
	if err != nil {
		return err
	}
	defer node.Close()
	li, err := node.Follow(ctx, t, o.out)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "following %s into %s; press Ctrl-C to stop\n", li.Name, ui.Escape(li.Dir))
	watchLive(ctx, e, node, li.Name)
	return nil
}

// shareLive shares each folder live and serves until ctx ends.
func shareLive(ctx context.Context, e *env, o *opts, args []string) error {
	if daemonAPI(o) != nil {
		return usagef("share --live: not yet through a running daemon; stop it, or use another --repo")
	}
	node, err := openOnline(o)
	if err != nil {
		return err
	}
	defer node.Close()
	for _, dir := range args {
		li, err := node.ShareLive(ctx, dir)
		if err != nil {
			return err
		}
		t, err := node.LiveTicket(li.Name)
		if err != nil {
			return err
		}
		printShared(e, o, li.Root, li.Name.String(), t.String())
	}
	serve(ctx, e, node)
	return nil
}

// watchLive prints a line for each version the live folder name takes,
// until ctx ends.
func watchLive(ctx context.Context, e *env, node *pollen.Node, name peer.ID) {
	var seq uint64
	var lastErr string
	for {
		lvs, _ := node.Lives()
		for _, li := range lvs {
			if li.Name != name {
				continue
			}
			if li.Seq != seq {
				seq = li.Seq
				fmt.Fprintf(e.stdout, "version %d  %s  %s\n", li.Seq, li.Root, li.Changed.Local().Format(time.DateTime))
				for _, c := range li.Conflicts {
					fmt.Fprintf(e.stderr, "conflict %s: changed or added here; left as it is\n", ui.Escape(c))
				}
			}
			if li.Err != lastErr && li.Err != "" {
				fmt.Fprintf(e.stderr, "version not taken yet: %s\n", ui.Escape(li.Err))
			}
			lastErr = li.Err
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}
