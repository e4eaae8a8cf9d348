package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/dustin/go-humanize"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/ui"
)

func init() {
	register(&command{
		name:    "limits",
		args:    "[--up RATE] [--down RATE] [--peer-up RATE]",
		summary: "show or change the running daemon's upload and download limits",
		help: `Without flags, prints the limits and what moves now. With flags, the running
daemon takes the rates given at once, for every connection and protocol
(Bitswap included), and saves them in the repo (limits.json): it starts with
them next time, and so do 'share', 'seed' and 'get' run without a daemon.
The --max-up, --max-down and --max-up-peer flags of those commands override
the saved rates for that run only.

A rate reads like 5Mbit, 800kbit, 2MiB or 500KB (a second); 0 or none is
no limit. --peer-up caps what each peer is sent, within --up.`,
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.StringVar(&o.maxUp, "up", "", "upload at most this fast")
			fs.StringVar(&o.maxDown, "down", "", "download at most this fast")
			fs.StringVar(&o.maxUpPeer, "peer-up", "", "send each peer at most this fast")
		},
		run: runLimits,
	})
}

func runLimits(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) != 0 {
		return usagef("limits takes no arguments (see 'pollen help limits')")
	}
	set := map[string]any{}
	for _, f := range rateFlags(o, "up", "down", "peer-up") {
		if f.v == "" {
			continue
		}
		bps, err := parseRate(f.v)
		if err != nil {
			return usagef("--%s %q: %v", f.name, f.v, err)
		}
		set[f.json] = bps
	}
	c := daemonAPI(o)
	if c == nil {
		if len(set) > 0 {
			return errors.New("no daemon is running for this repo: start 'pollen daemon', then set the limits (or give --max-up, --max-down to one command)")
		}
		return printSavedLimits(e, o)
	}
	var st ui.LimitsStatus
	var err error
	if len(set) > 0 {
		err = c.call("PUT", "/api/v1/limits", set, &st)
	} else {
		err = c.get("/api/v1/limits", &st)
	}
	if err != nil {
		return err
	}
	printLimits(e.stdout, st.Limits)
	if m := st.Measured; m.Wire && (m.Up > 0 || m.Down > 0) {
		fmt.Fprintf(e.stdout, "now:      up %s, down %s (on the wire)\n", rate(m.Up), rate(m.Down))
	}
	return nil
}

// printSavedLimits shows what a daemon would start with.
func printSavedLimits(e *env, o *opts) error {
	node, err := openNode(o)
	if err != nil {
		return err
	}
	defer node.Close()
	l, err := node.SavedLimits()
	if err != nil {
		return err
	}
	printLimits(e.stdout, ui.Limits{Up: l.Up, Down: l.Down, PeerUp: l.PeerUp})
	fmt.Fprintln(e.stderr, "no daemon running: these are the saved limits, which the next one starts with")
	return nil
}

func printLimits(w io.Writer, l ui.Limits) {
	fmt.Fprintf(w, "up:       %s\n", limit(l.Up))
	fmt.Fprintf(w, "down:     %s\n", limit(l.Down))
	fmt.Fprintf(w, "peer up:  %s\n", limit(l.PeerUp))
}

func limit(bps int64) string {
	if bps <= 0 {
		return "none"
	}
	return fmt.Sprintf("%s (%s)", rate(float64(bps)), bitRate(bps))
}

func rate(bps float64) string { return humanize.Bytes(uint64(bps)) + "/s" }

func bitRate(bps int64) string {
	return humanize.SIWithDigits(float64(bps)*8, 1, "bit/s")
}

// rateFlag is one rate flag of a command line: its name, its value as
// typed, its field in the API.
type rateFlag struct{ name, v, json string }

// rateFlags names o's three rates as a command calls them.
func rateFlags(o *opts, up, down, peerUp string) []rateFlag {
	return []rateFlag{{up, o.maxUp, "up"}, {down, o.maxDown, "down"}, {peerUp, o.maxUpPeer, "peer_up"}}
}

// runLimitsOf is the repo's saved limits with the rate flags given over
// them: what a command that goes online runs with.
func runLimitsOf(node *pollen.Node, o *opts) (pollen.Limits, error) {
	l, err := node.SavedLimits()
	if err != nil {
		return l, err
	}
	to := map[string]*int64{"up": &l.Up, "down": &l.Down, "peer_up": &l.PeerUp}
	for _, f := range rateFlags(o, "max-up", "max-down", "max-up-peer") {
		if f.v == "" {
			continue
		}
		bps, err := parseRate(f.v)
		if err != nil {
			return l, usagef("--%s %q: %v", f.name, f.v, err)
		}
		*to[f.json] = bps
	}
	return l, nil
}
