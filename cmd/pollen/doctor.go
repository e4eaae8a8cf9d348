package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dustin/go-humanize"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/ui"
)

func init() {
	register(&command{
		name:    "doctor",
		args:    "[TICKET|CID] [--json] [--wait DURATION]",
		summary: "say how peers reach this node, how the DHT fares, and who holds some content",
		help: `Doctor says, one fact a line, how peers can reach this node (public, behind
a cone NAT, behind a symmetric NAT, or unknown) and why: AutoNAT's verdicts,
the NAT's kind, port mapping, relay reservations. Then the DHT's health:
peers in its routing table and a test lookup. Given a ticket or CID, it
looks for the content's holders (the ticket's peer, the DHT's providers,
the peers of a get of it that runs in the daemon), dials and pings each,
says how it is reached (directly, through a relay, or directly after a hole
was punched) and why a transfer would be, or is, slow or stuck.

With a running daemon, the daemon is asked. Otherwise the node starts and
waits up to --wait for peers to tell it whether it can be reached (it
takes about 17 s). It exits 1 when the content has no reachable holder,
2 on bad usage, else 0. --json prints the same facts for scripts.`,
		flags: func(fs *flag.FlagSet, o *opts) {
			fs.BoolVar(&o.json, "json", false, "print the diagnosis as JSON")
			fs.DurationVar(&o.wait, "wait", 30*time.Second, "how long to wait, at most, for this node's reachability to be known")
			fs.DurationVar(&o.timeout, "timeout", pollen.DefaultDoctorTimeout, "bound on each probe: the test lookup, the search for holders, each dial")
			netFlags(fs, o)
		},
		run: runDoctor,
	})
}

func runDoctor(ctx context.Context, e *env, o *opts, args []string) error {
	if len(args) > 1 {
		return usagef("doctor: want at most one ticket or CID, got %d arguments", len(args))
	}
	if o.wait < 0 || o.timeout < 0 {
		return usagef("doctor: --wait and --timeout cannot be negative")
	}
	var ref string
	dopts := pollen.DoctorOptions{Wait: o.wait, Timeout: o.timeout}
	if len(args) == 1 {
		ref = strings.TrimSpace(args[0])
		root, g, err := ui.ParseRef(ref)
		if err != nil {
			return usagef("%v", err)
		}
		dopts.Root, dopts.Name, dopts.From, dopts.Ticket = root, g.Name, g.From, strings.HasPrefix(ref, "pollen1")
	}
	var d pollen.Diagnosis
	if c := daemonAPI(o); c != nil {
		fmt.Fprintln(e.stderr, "asking the running daemon")
		q := url.Values{"wait": {o.wait.String()}, "timeout": {o.timeout.String()}}
		if ref != "" {
			q.Set("ref", ref)
		}
		// The daemon waits as this would, then probes: give it the time.
		client := &http.Client{Timeout: o.wait + 3*o.timeout + time.Minute}
		resp, err := c.do(client, "GET", "/api/v1/doctor?"+q.Encode(), nil)
		if err != nil {
			return err
		}
		err = json.NewDecoder(resp.Body).Decode(&d)
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("daemon: %w", err)
		}
	} else {
		node, err := openOnline(o)
		if err != nil {
			return err
		}
		defer node.Close()
		if o.wait > 0 {
			fmt.Fprintf(e.stderr, "waiting up to %s for peers to tell whether this node can be reached (--wait to change)\n", o.wait)
		}
		d, err = node.Doctor(ctx, dopts)
		if err != nil && ctx.Err() != nil {
			return calmError{"stopped"}
		}
		if err != nil {
			return err
		}
	}
	if o.json {
		b, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			return err
		}
		e.data.Write(append(jsonSafe(b), '\n'))
	} else {
		printDiagnosis(e.stdout, d)
	}
	if c := d.Content; c != nil && c.Stuck {
		return fmt.Errorf("no reachable holder of %s: %s", c.Root, c.Why)
	}
	return nil
}

// printDiagnosis writes d in plain words, one fact a line.
func printDiagnosis(w io.Writer, d pollen.Diagnosis) {
	line := func(label, format string, a ...any) {
		fmt.Fprintf(w, "%-13s %s\n", label, fmt.Sprintf(format, a...))
	}
	n := d.Node
	line("node", "%s", n.ID)
	line("reachability", "%s", n.Summary)
	for _, r := range n.Reasons {
		line("  because", "%s", r)
	}
	for _, a := range n.Addrs {
		mapped := ""
		if a.Mapped {
			mapped = ", mapped by the router"
		}
		line("  address", "%s (%s%s)", a.Addr, a.Scope, mapped)
	}
	dh := d.DHT
	if !dh.On {
		line("dht", "%s", dh.Verdict)
	} else {
		mode := "client"
		if dh.Server {
			mode = "server"
		}
		line("dht", "%s", dh.Verdict)
		line("  table", "%d %s in the routing table (%s mode)", dh.RoutingTable, plural(dh.RoutingTable, "peer", "peers"), mode)
	}
	if l := dh.Lookup; l != nil {
		res := fmt.Sprintf("found %d %s in %s", l.Peers, plural(l.Peers, "peer", "peers"), msString(l.Millis))
		if l.Error != "" {
			res += " (" + l.Error + ")"
		}
		line("  lookup", "%s", res)
	}
	c := d.Content
	if c == nil {
		return
	}
	if c.Name != "" {
		line("content", "%s (%s)", c.Root, ui.Escape(c.Name))
	} else {
		line("content", "%s", c.Root)
	}
	if c.Here {
		line("  here", "every block is in this node's store")
	}
	line("  dht", "%s", c.DHT)
	for _, h := range c.Holders {
		line("holder", "%s", holderLine(h))
	}
	if t := c.Transfer; t != nil {
		state := "running"
		if t.Stalled {
			state = "stalled"
		}
		line("transfer", "%s of %s, %s", humanize.IBytes(uint64(t.Done)), humanize.IBytes(uint64(t.Total)), state)
	}
	line("verdict", "%s: %s", c.Verdict, c.Why)
}

// holderLine says how a holder was found and is reached.
func holderLine(h pollen.Holder) string {
	var b strings.Builder
	b.WriteString(h.ID)
	if h.Self {
		b.WriteString(" (this node)")
	}
	if len(h.Found) > 0 {
		fmt.Fprintf(&b, " (found: %s)", strings.Join(h.Found, ", "))
	}
	switch {
	case h.Self:
	case !h.Connected:
		b.WriteString(": unreachable")
		if h.Error != "" {
			b.WriteString(": " + h.Error)
		}
		return b.String()
	case h.Conn == pollen.ConnRelayed:
		b.WriteString(": relayed")
		if h.Via != "" {
			b.WriteString(" through " + h.Via)
		}
	default:
		b.WriteString(": " + string(h.Conn))
	}
	if h.RTT > 0 {
		b.WriteString(", round trip " + msString(h.RTT))
	}
	if h.Received > 0 {
		fmt.Fprintf(&b, ", sent %s", humanize.IBytes(uint64(h.Received)))
	}
	if h.Rate > 0 {
		fmt.Fprintf(&b, ", now %s/s", humanize.IBytes(uint64(h.Rate)))
	}
	return b.String()
}

func msString(ms float64) string {
	if ms >= 1000 {
		return fmt.Sprintf("%.1f s", ms/1000)
	}
	return fmt.Sprintf("%.1f ms", ms)
}

// jsonSafe escapes, as JSON's \uXXXX, every rune a terminal would act on
// rather than show (what ui.Escape escapes): the JSON means the same, and
// a name from a stranger cannot drive the terminal of whoever reads it.
// encoding/json already escapes control characters, not bidi controls.
func jsonSafe(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == '\n' || strconv.IsGraphic(r) {
			out = append(out, b[i:i+n]...)
		} else if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
		} else {
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		i += n
	}
	return out
}
