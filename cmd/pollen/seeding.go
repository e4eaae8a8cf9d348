package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/ui"
)

func init() {
	register(&command{
		name:    "seeding",
		args:    "[CID [--ratio R|default] [--time D|default] [--pause|--resume]]",
		summary: "show what each root uploaded, set when to stop seeding one, pause or resume it",
		help: `Without a CID, seeding lists every root this node shares or keeps: what it
uploaded, to how many peers, since when, the rules in force, and whether it
is seeded, paused or stopped by a rule.

With a CID it changes that root: --ratio 2 stops serving it once it
uploaded twice its size, --time 24h once it has been here a day (0 for
never, "default" for the node's rule: 'pollen daemon --seed-ratio',
'--seed-time'); --pause stops serving it now, --resume serves it again.
A root that is not seeded is not served to anyone (unless another root
seeded holds the same blocks) nor announced.`,
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.StringVar(&o.ratio, "ratio", "", `stop after uploading this many times its size; 0 never; "default"`)
			fs.StringVar(&o.seedFor, "time", "", `stop this long after it was added or fetched (24h); 0 never; "default"`)
			fs.BoolVar(&o.pause, "pause", false, "stop serving it now")
			fs.BoolVar(&o.resume, "resume", false, "serve it again")
		},
		run: runSeeding,
	})
}

func runSeeding(ctx context.Context, e *env, o *opts, args []string) error {
	switch len(args) {
	case 0:
		if o.ratio != "" || o.seedFor != "" || o.pause || o.resume {
			return usagef("seeding: name the CID to change")
		}
		var list []ui.Seeding
		err := viaNode(o, "GET", "/api/v1/seeding", nil, &list, func(node *pollen.Node) error {
			stats, err := node.Seeding()
			for _, st := range stats {
				list = append(list, ui.SeedingOf(st))
			}
			return err
		})
		if err != nil {
			return err
		}
		return printSeeding(e, list)
	case 1:
	default:
		return usagef("seeding takes at most one CID")
	}
	root, err := ui.ParseCID(args[0])
	if err != nil {
		return usagef("%v", err)
	}
	req := ui.SeedingChange{Time: o.seedFor, Pause: o.pause, Resume: o.resume}
	switch o.ratio {
	case "":
	case "default":
		r := -1.0
		req.Ratio = &r
	default:
		r, err := strconv.ParseFloat(o.ratio, 64)
		if err != nil || r < 0 {
			return usagef("--ratio %q: want a number such as 1.5, 0 for never, or default", o.ratio)
		}
		req.Ratio = &r
	}
	if _, err := req.Change(); err != nil {
		return usagef("%v", err)
	}
	var sd ui.Seeding
	err = viaNode(o, "POST", "/api/v1/seeding/"+root.String(), req, &sd, func(node *pollen.Node) error {
		ch, _ := req.Change()
		st, err := node.SetSeeding(root, ch)
		sd = ui.SeedingOf(st)
		return err
	})
	if err != nil {
		return err
	}
	return printSeeding(e, []ui.Seeding{sd})
}

func printSeeding(e *env, list []ui.Seeding) error {
	if len(list) == 0 {
		fmt.Fprintln(e.stderr, "nothing shared yet: try 'pollen add PATH'")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSIZE\tUPLOADED\tPEERS\tSINCE\tSTOP AT\tSEEDING\tCID")
	for _, sd := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", ui.Escape(sd.Name), humanize.IBytes(sd.Size), uploaded(sd),
			sd.Peers, sd.Since.Local().Format("2006-01-02 15:04"), stopAt(sd), seedState(sd), sd.CID)
	}
	return tw.Flush()
}

// uploaded is what a root uploaded and its ratio: "1.2 GiB (x1.20)".
func uploaded(sd ui.Seeding) string {
	return fmt.Sprintf("%s (x%.2f)", humanize.IBytes(uint64(sd.Uploaded)), sd.Ratio)
}

// stopAt says the rules in force: "x2", "24h0m0s", "x2 or 24h", "never".
func stopAt(sd ui.Seeding) string {
	s := ""
	if sd.StopRatio > 0 {
		s = "x" + strconv.FormatFloat(sd.StopRatio, 'f', -1, 64)
	}
	if sd.StopSeconds > 0 {
		if s != "" {
			s += " or "
		}
		s += (time.Duration(sd.StopSeconds) * time.Second).String()
	}
	if s == "" {
		return "never"
	}
	return s
}

// seedState is "seeding", "paused" or "stopped: ratio 2 reached".
func seedState(sd ui.Seeding) string {
	if sd.State == pollen.SeedStopped && sd.Reason != "" {
		return "stopped: " + sd.Reason
	}
	return sd.State
}
