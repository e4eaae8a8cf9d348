package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/ui"
)

func init() {
	register(&command{
		name:    "follow",
		args:    "TICKET|NAME -o DIR",
		summary: "keep DIR a mirror of a live folder, fetching only what changed",
		help: `TICKET is a live folder's ticket ('pollen share --live'). pollen fetches its
newest version into DIR, then each new version as the sharer publishes it:
only the blocks it lacks, each changed file written beside and renamed into
place, files deleted upstream deleted here. Files you add or edit in DIR are
yours: they are never replaced nor deleted, and are reported as conflicts.
Each version is checked against the folder's key: a forged or older version
is refused. While it runs, this node serves the versions it holds to other
followers. A follower that was away catches up to the newest version.
With a daemon running, the daemon keeps the mirror (and again after a
restart) and the command returns; 'pollen ls' shows its versions.
NAME, the folder's IPNS name (/ipns/k51...), follows it without a ticket:
its newest version is found in the DHT, and its blocks from whoever holds
them.`,
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
	t, err := pollen.ParseLive(args[0])
	if err != nil {
		return usagef("follow: %v", err)
	}
	if c := daemonAPI(o); c != nil {
		return followVia(e, c, args[0], o.out)
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
	if c := daemonAPI(o); c != nil {
		return shareLiveVia(e, c, o, args)
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

// shareLiveVia hands each folder to the running daemon to share live:
// it publishes the versions and takes the share up after a restart.
func shareLiveVia(e *env, c *apiClient, o *opts, dirs []string) error {
	for _, dir := range dirs {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return err
		}
		var l ui.Live
		// No timeout: the first version imports the whole folder.
		if err := c.callWith(&http.Client{}, "POST", "/api/v1/live", map[string]string{"dir": abs}, &l); err != nil {
			return err
		}
		printShared(e, o, l.Root, l.Name.String(), l.Ticket)
	}
	fmt.Fprintln(e.stderr, "shared live by the running daemon")
	return nil
}

// followVia hands the follow to the running daemon, which keeps the
// mirror (also after a restart); 'pollen ls' shows its versions.
func followVia(e *env, c *apiClient, ticket, dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	var l ui.Live
	if err := c.call("POST", "/api/v1/follow", map[string]string{"ticket": ticket, "dir": abs}, &l); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "the running daemon follows %s into %s; 'pollen ls' shows its versions\n", l.Name, ui.Escape(l.Dir))
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
