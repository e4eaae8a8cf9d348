package main

import (
	"context"
	"fmt"

	"github.com/ipfs/go-cid"

	"github.com/pollen-p2p/pollen/ui"
)

func init() {
	register(&command{
		name:    "rm",
		args:    "CID|NAME|DIR...",
		summary: "stop sharing and keeping a root; 'pollen gc' then frees its blocks",
		help: `A CID stops being shared and kept here; the files it came from stay where
they are. A live share's name (the LIVE rows of 'pollen ls' list it) or
its folder stops sharing the folder live: no new versions are published,
the folder stays as it is, and the versions this node kept are no longer
served. Sharing the folder live again later makes a new ticket. A follow
is stopped with 'pollen unfollow'.`,
		run: runRm,
	})
}

func runRm(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) == 0 {
		return usagef("rm: no CID given")
	}
	remove := func(c cid.Cid) error { return nil }
	var lv *liveSet
	if d := daemonAPI(o); d != nil {
		remove = func(c cid.Cid) error { return d.call("DELETE", "/api/v1/shares/"+c.String(), nil, &struct{}{}) }
		var err error
		if lv, err = livesVia(d); err != nil {
			return err
		}
	} else {
		node, err := openNode(o)
		if err != nil {
			return err
		}
		defer node.Close()
		remove = node.Remove
		if lv, err = livesIn(node); err != nil {
			return err
		}
	}
	// Every argument is read before anything is removed: a typo stops
	// the command with nothing done.
	type target struct {
		root cid.Cid
		live *ui.Live
	}
	var targets []target
	for _, a := range args {
		c, err := ui.ParseCID(a)
		if err == nil {
			targets = append(targets, target{root: c})
			continue
		}
		l, ok := lv.find(a)
		switch {
		case !ok:
			return usagef("%v, nor a live share's name or folder here (see 'pollen ls')", err)
		case l.Follow:
			return usagef("rm: %s is a follow: 'pollen unfollow %s' stops it", a, a)
		}
		targets = append(targets, target{live: &l})
	}
	for _, t := range targets {
		if t.live != nil {
			if err := lv.stop(t.live.Name); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "removed live share %s; the folder %s stays\n", t.live.Name, ui.Escape(t.live.Dir))
			continue
		}
		if err := remove(t.root); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "removed %s\n", t.root)
	}
	return nil
}
