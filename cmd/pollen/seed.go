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
		name:    "seed",
		args:    "[CID|TICKET]... [--pin] [--listen MULTIADDR]...",
		summary: "serve everything stored (shared and fetched) until Ctrl-C",
		help: `Given CIDs or tickets, seed first fetches each into the store, without
writing files, to serve it on. Under --max-storage such content is
evictable, least recently used first, unless --pin; content that cannot fit
beside what is shared and pinned is refused once its first block is here,
before the rest moves.`,
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.BoolVar(&o.pin, "pin", false, "keep what it fetches whatever --max-storage")
			fs.Var(&o.from, "from", "dial this peer first, /ip4/.../p2p/ID (repeatable)")
			fs.DurationVar(&o.timeout, "timeout", time.Minute, "give up when no block arrives for this long")
			netFlags(fs, o)
			storageFlag(fs, o)
			seedFlags(fs, o)
		},
		run: runSeed,
	})
}

func runSeed(ctx context.Context, e *env, o *opts, args []string) error {
	var froms []peer.AddrInfo
	for _, s := range o.from {
		p, err := peer.AddrInfoFromString(s)
		if err != nil {
			return usagef("--from %q is not a peer multiaddr (/ip4/.../p2p/ID): %v", s, err)
		}
		froms = append(froms, *p)
	}
	for _, a := range args {
		if _, _, err := ui.ParseRef(a); err != nil {
			return usagef("%v", err)
		}
	}
	node, err := openOnline(o)
	if err != nil {
		return err
	}
	defer node.Close()
	for _, a := range args {
		root, gopts, _ := ui.ParseRef(a)
		gopts.From, gopts.Stall, gopts.Pin = append(gopts.From, froms...), o.timeout, o.pin
		bar := e.bar("seed")
		gopts.Fetch = func(p pollen.FetchProgress) {
			bar.SetPeers(len(p.Peers))
			bar.Moved(p.Received(), p.Here)
			bar.Progress(p.Done, p.Total)
		}
		rec, err := node.Seed(ctx, root, gopts)
		finish(bar, err)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "kept %s (%s)\n", rec.Root, ui.KindOf(rec))
	}
	recs, err := node.List()
	if err != nil {
		return err
	}
	for _, r := range recs {
		fmt.Fprintf(e.stdout, "CID     %s\n", r.Root)
		fmt.Fprintf(e.stdout, "ticket  %s\n", node.Ticket(r.Root))
	}
	serve(ctx, e, node)
	return nil
}
