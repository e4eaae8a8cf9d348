package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/ui"
)

func init() {
	register(&command{
		name:    "id",
		args:    "[--listen MULTIADDR]...",
		summary: "print this node's peer ID and the addresses it listens on",
		flags:   func(fs *flag.FlagSet, o *opts) { netFlags(fs, o); jsonFlag(fs, o) },
		run:     runID,
	})
}

func runID(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) != 0 {
		return usagef("id takes no arguments")
	}
	if d := daemonAPI(o); d != nil {
		var st ui.Status
		if err := d.get("/api/v1/status", &st); err != nil {
			return err
		}
		if o.json {
			return printJSON(e, Identity{ID: st.ID, Addrs: st.Addrs})
		}
		printIdentity(e.stdout, st.ID, st.Addrs)
		return nil
	}
	o.offline, o.noMDNS = true, true // listening is enough to know the addresses
	node, err := openOnline(o)
	if err != nil {
		return err
	}
	defer node.Close()
	if o.json {
		id := Identity{ID: node.ID().String(), Addrs: []string{}}
		for _, a := range node.Addrs() {
			id.Addrs = append(id.Addrs, a.String())
		}
		return printJSON(e, id)
	}
	printNode(e.stdout, node)
	return nil
}

// printIdentity prints a node's peer ID and full dialable addresses, each
// on a line of its own, for people and scripts to copy.
func printIdentity(w io.Writer, id string, addrs []string) {
	fmt.Fprintf(w, "peer    %s\n", id)
	for _, a := range addrs {
		fmt.Fprintf(w, "address %s\n", a)
	}
}

// printNode is printIdentity for the node running here.
func printNode(w io.Writer, node *pollen.Node) {
	var addrs []string
	for _, a := range node.Addrs() {
		addrs = append(addrs, a.String())
	}
	printIdentity(w, node.ID().String(), addrs)
}
