package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/ui"
)

func init() {
	register(&command{
		name:    "ls",
		args:    "[TICKET|CID]",
		summary: "list what this node shares and keeps, or the files of a share",
		help: `Without an argument, ls lists what this node shares and keeps: name, size,
kind and CID. The kind is "shared", "pinned", or "evictable": fetched and
not pinned, the first to go under --max-storage. A last line says what the
store holds against --max-storage. With a ticket or a CID it lists the
files and folders of that share, with their sizes, fetching from its holders only what a listing
needs (the folders and each file's first block, never a file's contents),
so you can see what a share holds before you get it.

Live shares and follows ('pollen share --live', 'pollen follow') follow, in
LIVE rows: folder, version, last change, followers connected now, and the
files changed or added in a mirror that pollen left alone (conflicts); a
line on stderr says a live folder's last error. With --json, one array: the
shares, then each live share and follow as an entry of kind "live" whose
"live" object holds its state (its version held is also a share entry).`,
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.IntVar(&o.maxEntries, "max-entries", 0, fmt.Sprintf("refuse a share of more files and folders than this (default %d)", pollen.DefaultMaxEntries))
			fs.DurationVar(&o.timeout, "timeout", time.Minute, "give up when nothing arrives for this long")
			netFlags(fs, o)
			jsonFlag(fs, o)
			storageFlag(fs, o)
		},
		run: runLs,
	})
}

func runLs(ctx context.Context, e *env, o *opts, args []string) error {
	switch len(args) {
	case 0:
	case 1:
		return lsTree(ctx, e, o, args[0])
	default:
		return usagef("ls takes at most one ticket or CID")
	}
	var shares []ui.Share
	var missing []string
	var usage pollen.Usage
	var lives []ui.Live
	if c := daemonAPI(o); c != nil {
		if err := c.get("/api/v1/shares", &shares); err != nil {
			return err
		}
		if err := c.get("/api/v1/live", &lives); err != nil {
			return err
		}
		var st ui.Status
		if err := c.get("/api/v1/status", &st); err != nil {
			return err
		}
		missing = st.Missing
		usage = pollen.Usage{Quota: st.Quota, Stored: st.Stored, Kept: st.Kept}
	} else {
		node, err := openNode(o)
		if err != nil {
			return err
		}
		defer node.Close()
		if shares, err = ui.SharesOf(node); err != nil {
			return err
		}
		if missing, err = node.MissingFiles(); err != nil {
			return err
		}
		if usage, err = node.Usage(ctx); err != nil {
			return err
		}
		if lives, err = ui.LivesOf(node); err != nil {
			return err
		}
	}
	defer func() {
		for _, f := range missing {
			fmt.Fprintf(e.stderr, "missing %s: moved or deleted since it was fetched; get it again to serve it\n", strconv.Quote(f))
		}
	}()
	if o.json {
		return printJSON(e, lsJSON(shares, lives))
	}
	if len(shares) == 0 && len(lives) == 0 {
		fmt.Fprintln(e.stderr, "nothing shared yet: try 'pollen add PATH'")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSIZE\tKIND\tUPLOADED\tPEERS\tSINCE\tSEEDING\tCID")
	for _, s := range shares {
		kind := s.Kind
		switch {
		case s.Allowed > 0:
			kind += fmt.Sprintf(", private to %d %s", s.Allowed, plural(s.Allowed, "peer", "peers"))
		case s.Private:
			kind += ", private"
		}
		if s.Live != "" {
			kind += ", live version"
		}
		sd := s.Seeding
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", ui.Escape(s.Name), humanize.IBytes(s.Size), kind,
			uploaded(sd), sd.Peers, sd.Since.Local().Format("2006-01-02 15:04"), seedState(sd), s.CID)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := lsLive(e, lives); err != nil {
		return err
	}
	fmt.Fprintln(e.stderr, storageLine(usage))
	return nil
}

// lsLive lists the live shares and follows: version, last change,
// followers (those connected now, when this process serves them), and
// says each one's last error.
func lsLive(e *env, lvs []ui.Live) error {
	if len(lvs) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nLIVE\tKIND\tVERSION\tCHANGED\tFOLLOWERS\tCONFLICTS\tNAME")
	for _, li := range lvs {
		kind := "live share"
		if li.Follow {
			kind = "follow"
		}
		changed := "-" // no version yet
		if !li.Changed.IsZero() {
			changed = li.Changed.Local().Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%s\n", ui.Escape(li.Dir), kind, li.Seq,
			changed, li.Followers, len(li.Conflicts), li.Name)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, li := range lvs {
		if li.Why != "" {
			fmt.Fprintf(e.stderr, "live %s: %s\n", ui.Escape(li.Dir), ui.Escape(li.Why))
		}
	}
	return nil
}

// lsEntry is one entry of ls --json: a share, or a live share or
// follow (kind "live") with its state under "live". One array of the
// same shape keeps the scripts that read the shares working.
type lsEntry struct {
	ui.Share
	Live *ui.Live `json:"live,omitempty"`
}

func lsJSON(shares []ui.Share, lives []ui.Live) []lsEntry {
	out := []lsEntry{}
	byCID := map[string]ui.Share{}
	for _, s := range shares {
		out = append(out, lsEntry{Share: s})
		byCID[s.CID] = s
	}
	for _, l := range lives {
		s := byCID[l.Root] // the version held: its size and seeding
		s.Name, s.Kind, s.CID, s.Ticket = filepath.Base(l.Dir), "live", l.Root, l.Ticket
		s.Private, s.Allowed, s.Used = false, 0, nil
		out = append(out, lsEntry{Share: s, Live: &l})
	}
	return out
}

// storageLine says what the store holds against the quota: what shared
// and pinned content takes is kept, the rest may be evicted.
func storageLine(u pollen.Usage) string {
	held := fmt.Sprintf("%s shared or pinned, %s evictable", humanize.IBytes(uint64(u.Kept)), humanize.IBytes(uint64(max(u.Stored-u.Kept, 0))))
	if u.Quota <= 0 {
		return fmt.Sprintf("stored %s (%s); no --max-storage", humanize.IBytes(uint64(u.Stored)), held)
	}
	return fmt.Sprintf("stored %s of --max-storage %s (%s)", humanize.IBytes(uint64(u.Stored)), humanize.IBytes(uint64(u.Quota)), held)
}

// lsTree lists the files and folders of a share.
func lsTree(ctx context.Context, e *env, o *opts, ref string) error {
	var t ui.Tree
	if c := daemonAPI(o); c != nil {
		if err := c.get("/api/v1/tree?ref="+url.QueryEscape(ref), &t); err != nil {
			return err
		}
	} else {
		root, gopts, err := ui.ParseRef(ref)
		if err != nil {
			return usagef("%v", err)
		}
		node, err := openNode(o)
		if err != nil {
			return err
		}
		defer node.Close()
		gopts.MaxEntries, gopts.Stall = o.maxEntries, o.timeout
		// What is here lists without the network.
		res, err := node.Tree(ctx, root, gopts)
		if errors.Is(err, pollen.ErrNotLocal) {
			if err := node.StartNetwork(); err != nil {
				return err
			}
			res, err = node.Tree(ctx, root, gopts)
		}
		if err != nil {
			return err
		}
		name := gopts.Name
		if gopts.Path != "" {
			name = path.Base(gopts.Path) // where get writes it
		}
		t = ui.Tree{CID: root.String(), Name: name, Fetched: res.Fetched, FetchedBytes: res.FetchedBytes}
		for _, en := range res.Entries {
			t.Entries = append(t.Entries, ui.TreeEntry{Path: en.Path, Kind: en.Kind, Size: en.Size, CID: en.CID.String()})
		}
	}
	if o.json {
		return printJSON(e, t)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SIZE\tPATH")
	files, dirs := 0, 0
	var total int64
	top := cmp.Or(t.Name, t.CID) // where get writes the share
	for _, en := range t.Entries {
		name := path.Join(top, en.Path)
		switch en.Kind {
		case "dir":
			dirs++
			fmt.Fprintf(tw, "-\t%s/\n", ui.Escape(name))
		case "symlink":
			fmt.Fprintf(tw, "link\t%s\n", ui.Escape(name))
		default:
			files++
			total += en.Size
			fmt.Fprintf(tw, "%s\t%s\n", humanize.IBytes(uint64(en.Size)), ui.Escape(name))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "%d %s, %s, in %d %s", files, plural(files, "file", "files"), humanize.IBytes(uint64(total)), dirs, plural(dirs, "folder", "folders"))
	if t.Fetched > 0 {
		fmt.Fprintf(e.stderr, "; fetched %d %s (%s) to list", t.Fetched, plural(t.Fetched, "block", "blocks"), humanize.IBytes(uint64(t.FetchedBytes)))
	}
	fmt.Fprintln(e.stderr)
	return nil
}
