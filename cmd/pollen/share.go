package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/ipfs/go-cid"
)

func init() {
	register(&command{
		name:    "share",
		args:    "[--hidden] [--private] [--allow PEER_ID]... [--live] [--listen MULTIADDR]... PATH...",
		summary: "add files or folders, print their CIDs and tickets, and serve until Ctrl-C",
		help: `Each PATH is added as 'pollen add' does and recorded as a share. Then pollen
prints, each on a line of its own, the CID and ticket of every PATH and the
node's dialable addresses, and serves every stored block until interrupted.
Give the ticket to whoever should fetch it: 'pollen get TICKET'.

A --private share is served only to peers holding its ticket: the ticket
carries a secret each getter proves it holds, the share is never announced
on the DHT, and a peer that learns only its CID gets nothing. Whoever fetches
it serves it on the same terms. --allow limits it further to the named peers
('pollen id' prints a node's peer ID); it implies --private. Sharing a folder
privately again keeps its secret, so tickets given out stay good.

A --live folder keeps being shared as it changes: pollen watches it, and a
couple of seconds after each change publishes the new version, signed by a
key of the folder's own, to everyone following it ('pollen follow TICKET').
Only the files that changed are read again. Its ticket stays good for every
version; sharing the folder live again takes up the same key, until 'pollen
rm NAME' stops it. With a
daemon running, the daemon shares it (and again after a restart) and the
command returns.`,
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.BoolVar(&o.hidden, "hidden", false, `include files and folders whose names start with "."`)
			fs.BoolVar(&o.private, "private", false, "serve only to peers holding the ticket; never announce it")
			fs.Var(&o.allow, "allow", "serve only to this peer ID (repeatable; implies --private)")
			fs.BoolVar(&o.live, "live", false, "share each folder as it changes: followers get every new version")
			netFlags(fs, o)
			jsonFlag(fs, o)
			seedFlags(fs, o)
			storageFlag(fs, o)
		},
		run: runShare,
	})
}

func runShare(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) == 0 {
		return usagef("share: no PATH given")
	}
	if o.live {
		return shareLive(ctx, e, o, args)
	}
	if c := daemonAPI(o); c != nil {
		// The daemon holds the repo and serves: hand it the paths.
		for _, path := range args {
			if err := shareVia(ctx, e, c, path, o); err != nil {
				return err
			}
		}
		fmt.Fprintln(e.stderr, "shared by the running daemon")
		return nil
	}
	node, err := openOnline(o)
	if err != nil {
		return err
	}
	defer node.Close()
	var roots []cid.Cid
	for _, path := range args {
		res, err := addPath(ctx, e, o, path, node.Share)
		if err != nil {
			return err
		}
		roots = append(roots, res.Root)
		printShared(e, o, res.Root.String(), res.Name, node.Ticket(res.Root).String())
	}
	serve(ctx, e, node, roots...)
	return nil
}

// printShared says what was shared: its CID and ticket, each on a line
// of its own, or a line of JSON.
func printShared(e *env, o *opts, root, name, ticket string) {
	if o.json {
		printJSON(e, Added{CID: root, Name: name, Ticket: ticket})
		return
	}
	fmt.Fprintf(e.stdout, "CID     %s\n", root)
	fmt.Fprintf(e.stdout, "ticket  %s\n", ticket)
}
