package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/ui"
)

func init() {
	register(&command{
		name:    "add",
		args:    "[-q] [--hidden] PATH...",
		summary: "import files or folders into the local store and print their CIDs",
		help: `Each PATH is imported with Kubo's unixfs-v1-2025 profile, so the CID is the
one Kubo gives for the same bytes. Nothing goes over the network. Names
starting with "." are skipped unless --hidden; symlinks are stored as
symlinks, never followed.`,
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.BoolVar(&o.quiet, "q", false, "print only the CID of each PATH, one per line")
			fs.BoolVar(&o.hidden, "hidden", false, `include files and folders whose names start with "."`)
			storageFlag(fs, o)
			jsonFlag(fs, o)
		},
		run: runAdd,
	})
}

func runAdd(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) == 0 {
		return usagef("add: no PATH given")
	}
	if c := daemonAPI(o); c != nil { // the daemon holds the repo
		for _, path := range args {
			t, err := importVia(ctx, e, c, "/api/v1/add", path, o)
			if err != nil {
				return err
			}
			printAdded(e, o, t.CID, t.Name)
		}
		return nil
	}
	node, err := openNode(o)
	if err != nil {
		return err
	}
	defer node.Close()
	for _, path := range args {
		res, err := addPath(ctx, e, o, path, node.Add)
		if err != nil {
			return err
		}
		printAdded(e, o, res.Root.String(), res.Name)
	}
	return nil
}

func printAdded(e *env, o *opts, root, name string) {
	if o.json {
		printJSON(e, Added{CID: root, Name: name})
		return
	}
	if o.quiet {
		fmt.Fprintln(e.stdout, root)
	} else {
		fmt.Fprintf(e.stdout, "added %s %s\n", root, ui.Escape(name))
	}
}

// addPath runs add (node.Add or node.Share) on path with a progress bar
// (none with -q) and tells how many hidden entries were left out.
func addPath(ctx context.Context, e *env, o *opts, path string,
	add func(context.Context, string, pollen.AddOptions) (pollen.AddResult, error)) (pollen.AddResult, error) {
	var bar ui.Bar
	allow, err := peerIDs(o.allow)
	if err != nil {
		return pollen.AddResult{}, err
	}
	aopts := pollen.AddOptions{Hidden: o.hidden, Private: o.private, Allow: allow}
	if !o.quiet {
		bar = e.bar("add " + path)
		aopts.Progress = bar
	}
	res, err := add(ctx, path, aopts)
	if bar != nil {
		finish(bar, err)
	}
	if err == nil && res.SkippedHidden > 0 && !o.quiet {
		fmt.Fprintf(e.stderr, "skipped %d hidden %s in %s (use --hidden to include them)\n",
			res.SkippedHidden, plural(res.SkippedHidden, "entry", "entries"), ui.Escape(path))
	}
	return res, err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// finish ends a progress display the way the work ended.
func finish(bar ui.Bar, err error) {
	if err != nil {
		bar.Abort()
	} else {
		bar.Done()
	}
}

// peerIDs reads the peer IDs given with --allow.
func peerIDs(ss []string) ([]peer.ID, error) {
	var out []peer.ID
	for _, s := range ss {
		for _, f := range strings.Split(s, ",") {
			if f = strings.TrimSpace(f); f == "" {
				continue
			}
			id, err := peer.Decode(f)
			if err != nil {
				return nil, usagef("--allow %q: not a peer ID ('pollen id' prints one)", f)
			}
			out = append(out, id)
		}
	}
	return out, nil
}
