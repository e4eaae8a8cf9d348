package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"sync"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/ui"
)

func init() {
	register(&command{
		name:    "get",
		args:    "CID|TICKET [-o DIR] [--from MULTIADDR]... [--seed] [--force]",
		summary: "fetch a file or folder by ticket or CID and write it into DIR",
		help: `The content is written to DIR/NAME, where NAME is the name it was shared
under (or the CID). Blocks already in the store are used as they are; the
rest come from the ticket's peer, the --from peers (any IPFS node), peers
on the LAN and the DHT, from all of them at once. An interrupted get fetches
only what is still missing when run again.

Each file is written under a temporary name and renamed when complete.
Existing files are never replaced without --force, names that could leave
DIR are refused, and nothing is written through a symlink. Content that
needs more than DIR's free space, or holds more files and folders than
--max-entries, is refused before anything is written. The blocks are
kept, so this node serves them on (now with --seed, or later with 'pollen
seed' or 'pollen share'); they stay in the files written, and take no room
in the repo. Under --max-storage, fetched content is served on while there
is room, and stops being served, least recently used first, when room is
needed: --pin (or 'pollen pin') keeps it whatever the quota.`,
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.StringVar(&o.out, "o", ".", "folder to write into")
			fs.BoolVar(&o.force, "force", false, "replace existing files")
			fs.IntVar(&o.maxEntries, "max-entries", 0, fmt.Sprintf("refuse content of more files and folders than this (default %d)", pollen.DefaultMaxEntries))
			fs.Var(&o.from, "from", "dial this peer first, /ip4/.../p2p/ID (repeatable)")
			fs.Var(&o.only, "only", `take only the files matching this pattern ("*.mp4", "photos/*.jpg"; repeatable)`)
			fs.BoolVar(&o.seed, "seed", false, "keep serving after the download, until Ctrl-C")
			fs.DurationVar(&o.timeout, "timeout", time.Minute, "give up when no block arrives for this long")
			fs.BoolVar(&o.pin, "pin", false, "keep it whatever --max-storage: without it, fetched content is evicted first when room is needed")
			netFlags(fs, o)
			jsonFlag(fs, o)
			seedFlags(fs, o)
			storageFlag(fs, o)
		},
		run: runGet,
	})
}

func runGet(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) != 1 {
		return usagef("get: want exactly one CID or ticket, got %d arguments", len(args))
	}
	root, gopts, err := ui.ParseRef(args[0])
	if err != nil {
		return usagef("%v", err)
	}
	for _, s := range o.from {
		p, err := peer.AddrInfoFromString(s)
		if err != nil {
			return usagef("--from %q is not a peer multiaddr (/ip4/.../p2p/ID): %v", s, err)
		}
		gopts.From = append(gopts.From, *p)
	}
	gopts.Force, gopts.Stall, gopts.MaxEntries, gopts.Only, gopts.Pin = o.force, o.timeout, o.maxEntries, o.only, o.pin
	if c := daemonAPI(o); c != nil { // the daemon fetches, and serves on
		if err := getVia(ctx, e, c, args[0], o.out, o); err != nil || !o.pin {
			return err
		}
		return pinVia(c, root, true)
	}
	node, err := openNode(o)
	if err != nil {
		return err
	}
	defer node.Close()
	if o.seed {
		if err := node.StartNetwork(); err != nil {
			return err
		}
	}
	start := time.Now()
	bar := e.bar("get")
	var mu sync.Mutex
	var last pollen.FetchProgress
	gopts.Fetch = func(p pollen.FetchProgress) {
		mu.Lock()
		last = p
		mu.Unlock()
		bar.SetPeers(len(p.Peers))
		bar.Moved(p.Received(), p.Here)
		bar.Progress(p.Done, p.Total)
	}
	// Try the store alone first: a get of what is here needs no network.
	// Get checks every block is here before it writes anything, so on
	// ErrNotLocal it is safe to go online and get again.
	local := gopts
	if !node.Online() {
		local.Progress = bar
	}
	res, err := node.Get(ctx, root, o.out, local)
	if err == nil && !node.Online() {
		bar.Moved(0, 0) // all of it was here: nothing to resume
	}
	if errors.Is(err, pollen.ErrNotLocal) && !node.Online() {
		if err := node.StartNetwork(); err != nil {
			bar.Abort()
			return err
		}
		wctx, stop := context.WithCancel(ctx)
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			sayPunched(wctx, e, node, start)
		}()
		res, err = node.Get(ctx, root, o.out, gopts)
		stop()
		<-watched
	}
	finish(bar, err)
	if err != nil && ctx.Err() != nil {
		mu.Lock()
		defer mu.Unlock()
		if last.Total == 0 {
			return calmError{"stopped before anything arrived"}
		}
		return calmError{fmt.Sprintf("stopped; %s of %s kept, run the same command to resume",
			humanize.IBytes(uint64(last.Done)), humanize.IBytes(uint64(last.Total)))}
	}
	if err != nil {
		return err
	}
	if o.json {
		printJSON(e, Saved{CID: root.String(), Path: res.Path, Files: res.Files, Size: res.Size})
	} else {
		fmt.Fprintf(e.stdout, "saved %s (%d %s, %s)\n", ui.Escape(res.Path), res.Files, plural(res.Files, "file", "files"), humanize.IBytes(uint64(res.Size)))
	}
	mu.Lock()
	damaged, got := last.Damaged, last.Peers
	mu.Unlock()
	tellRoutes(e, node, got, time.Since(start))
	noteDamaged(e, damaged)
	if o.seed {
		serve(ctx, e, node, root)
	}
	return nil
}

// parseCID reads a CID argument; a bad one is a usage error.
// parseCIDs reads the CIDs of a command's arguments (pin, rm, ...).
func parseCIDs(verb string, args []string) ([]cid.Cid, error) {
	if len(args) == 0 {
		return nil, usagef("%s: no CID given", verb)
	}
	var roots []cid.Cid
	for _, a := range args {
		c, err := parseCID(a)
		if err != nil {
			return nil, err
		}
		roots = append(roots, c)
	}
	return roots, nil
}

func parseCID(s string) (cid.Cid, error) {
	c, err := ui.ParseCID(s)
	if err != nil {
		return cid.Undef, usagef("%v", err)
	}
	return c, nil
}

// noteDamaged tells the user that peers sent damaged blocks: what was
// saved is whole (each was fetched again from another peer), but a peer
// has a failing disk or lies.
func noteDamaged(e *env, n int) {
	if n > 0 {
		fmt.Fprintf(e.stderr, "note: %d %s arrived damaged from a peer; dropped and fetched again from others\n", n, plural(n, "block", "blocks"))
	}
}
