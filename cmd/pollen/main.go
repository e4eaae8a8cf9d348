// Command pollen shares folders peer to peer with IPFS formats.
//
// Run "pollen help" for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"golang.org/x/term"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/ui"
)

// memoryLimit is the Go heap's soft limit unless GOMEMLIMIT says
// otherwise: a transfer's garbage is mostly 1 MiB blocks, and without a
// limit the heap grows to twice what is live before the GC runs. The
// limit leaves room above the live peak of a get of a million files, and
// below it room for the binary's text and Badger's mapped files in an
// RSS of 250 MiB (docs/performance.md).
const memoryLimit = 160 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	// POLLEN_CPUPROFILE=FILE writes a Go CPU profile of the command, for
	// `go tool pprof`.
	if path := os.Getenv("POLLEN_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	var c calmError
	if errors.As(err, &c) {
		fmt.Fprintln(os.Stderr, ui.Escape(c.msg)) // the user stopped it: no alarm
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "pollen: "+ui.Escape(oneLine(err)))
	}
	if err != nil {
		pprof.StopCPUProfile()
		os.Exit(exitCode(err))
	}
}

// command is one subcommand: its own file holds the help text and run.
type command struct {
	name    string
	args    string // synopsis after the name
	summary string
	help    string // extra paragraphs for "pollen help NAME"
	flags   func(fs *flag.FlagSet, o *opts)
	run     func(ctx context.Context, e *env, o *opts, args []string) error
}

// opts holds every flag any command takes; each command registers the
// ones it uses.
type opts struct {
	repo       string
	quiet      bool
	hidden     bool
	out        string
	force      bool
	maxEntries int
	drop       bool
	json       bool
	maxStorage string
	pin        bool
	live       bool

	// network
	listen    list
	bootstrap list
	relays    list
	only      list
	private   bool
	allow     list
	seedRatio float64
	seedTime  time.Duration
	pause     bool
	resume    bool
	ratio     string
	car       string
	seedFor   string
	maxUp     string
	maxDown   string
	maxUpPeer string
	shaped    bool // limits changeable while it runs (the daemon)
	from      list
	offline   bool
	noMDNS    bool
	seed      bool
	timeout   time.Duration
	wait      time.Duration
	api       string

	// relay service (daemon)
	relay             bool
	relayDuration     time.Duration
	relayData         string
	relayReservations int
}

// list is a repeatable string flag.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

// netFlags registers the flags of the commands that go online.
// seedFlags are the seeding rules of the commands that serve.
func seedFlags(fs *flag.FlagSet, o *opts) {
	fs.Float64Var(&o.seedRatio, "seed-ratio", 0, "stop serving a root once it uploaded this many times its size (default never; 'pollen seeding' sets one root's)")
	fs.DurationVar(&o.seedTime, "seed-time", 0, "stop serving a root this long after it was added or fetched (default never)")
}

func netFlags(fs *flag.FlagSet, o *opts) {
	fs.Var(&o.listen, "listen", "listen on this multiaddr instead of the defaults (repeatable)")
	fs.BoolVar(&o.offline, "offline", false, "no DHT and no NAT port mapping: only direct dials and the LAN")
	fs.BoolVar(&o.noMDNS, "no-mdns", false, "do not look for peers on the LAN")
	fs.Var(&o.bootstrap, "bootstrap", `DHT bootstrap peer multiaddr instead of the public IPFS ones (repeatable); "none" starts a private DHT`)
	fs.StringVar(&o.maxUp, "max-up", "", "upload at most this fast: 5Mbit, 2MiB (a second; 0: none; default the saved limit, see 'pollen help limits')")
	fs.StringVar(&o.maxDown, "max-down", "", "download at most this fast: 5Mbit, 2MiB (a second; 0: none; default the saved limit)")
	fs.StringVar(&o.maxUpPeer, "max-up-peer", "", "send each peer at most this fast, within --max-up (0: none; default the saved limit)")
	fs.Var(&o.relays, "use-relay", "relay peer multiaddr to be reached through when this node cannot be dialled (repeatable); bootstrap peers and connected relays are tried too")
}

// storageFlag registers --max-storage, for the commands that store
// content. The repo has no config file: like the rates, the quota is
// given to each command that needs it (the daemon's holds for every
// command run beside it).
func storageFlag(fs *flag.FlagSet, o *opts) {
	fs.StringVar(&o.maxStorage, "max-storage", "", "keep the store under this size, such as 50GB or 500MiB, evicting fetched content that is not pinned, least recently used first (default no limit)")
}

// env is what a command may touch of the outside world.
type env struct {
	// stdout and stderr escape control, bidi and other invisible
	// characters: names come from strangers' DAGs, and what pollen prints
	// must not drive the terminal (set its title, colours, text direction).
	stdout, stderr io.Writer
	// data is the real stdout, for the file bytes cat writes; bars is the
	// real stderr, for the control sequences a progress bar draws with.
	data, bars io.Writer
	terminal   bool // stderr is a terminal: draw progress bars
}

// bar returns the progress display for verb on stderr.
func (e *env) bar(verb string) ui.Bar { return ui.NewBar(e.bars, verb, e.terminal) }

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// usageError is bad command-line input: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// calmError ends a command the user stopped (Ctrl-C): its message is
// printed as it is, and the exit code is the shell's for an interrupt.
type calmError struct{ msg string }

func (e calmError) Error() string { return e.msg }

func exitCode(err error) int {
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	if errors.As(err, new(calmError)) {
		return 130
	}
	return pollen.KindOf(err).ExitCode()
}

// oneLine keeps an error to the single line the user reads.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	e := &env{stdout: ui.EscapeWriter(stdout), stderr: ui.EscapeWriter(stderr), data: stdout, bars: stderr}
	if f, ok := stderr.(*os.File); ok {
		e.terminal = term.IsTerminal(int(f.Fd()))
	}
	global := flag.NewFlagSet("pollen", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	var o opts
	global.StringVar(&o.repo, "repo", "", "repository folder (default $POLLEN_REPO or ~/.pollen)")
	showVersion := global.Bool("version", false, "print the version")
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout)
			return nil
		}
		return usagef("%v (see 'pollen help')", err)
	}
	args = global.Args()
	if *showVersion {
		fmt.Fprintln(stdout, versionLine())
		return nil
	}
	if len(args) == 0 {
		printUsage(stderr)
		return usagef("no command given")
	}
	name, args := args[0], args[1:]
	if name == "help" || name == "--help" {
		return help(stdout, args)
	}
	c, ok := commands[name]
	if !ok {
		if s := suggest(name); s != "" {
			return usagef("unknown command %q: did you mean %q? (see 'pollen help')", name, s)
		}
		return usagef("unknown command %q (see 'pollen help')", name)
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.repo, "repo", o.repo, "repository folder (default $POLLEN_REPO or ~/.pollen)")
	if c.flags != nil {
		c.flags(fs, &o)
	}
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		commandHelp(stdout, c, fs)
		return nil
	}
	if err != nil {
		return usagef("%s: %v (see 'pollen help %s')", name, err, name)
	}
	return c.run(ctx, e, &o, pos)
}

// parseInterspersed lets flags come after positional arguments, as in
// "pollen get CID -o DIR".
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// repoDir resolves --repo, then $POLLEN_REPO, then ~/.pollen.
func repoDir(o *opts) (string, error) {
	if o.repo != "" {
		return o.repo, nil
	}
	if d := os.Getenv("POLLEN_REPO"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the home folder for the default repo; use --repo DIR: %w", err)
	}
	return filepath.Join(home, ".pollen"), nil
}

// openNode opens the repo for a command that needs it.
func openNode(o *opts) (*pollen.Node, error) {
	dir, err := repoDir(o)
	if err != nil {
		return nil, err
	}
	cfg := pollen.Config{Offline: o.offline, NoMDNS: o.noMDNS, Shaped: o.shaped, Seed: pollen.SeedRules{Ratio: o.seedRatio, Time: o.seedTime}}
	if o.seedRatio < 0 || o.seedTime < 0 {
		return nil, usagef("--seed-ratio and --seed-time cannot be negative")
	}
	for _, s := range o.listen {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, usagef("--listen %q is not a multiaddr: %v", s, err)
		}
		cfg.Listen = append(cfg.Listen, a)
	}
	for _, s := range o.bootstrap {
		if s == "none" { // a DHT of our own: no bootstrap peers, others bootstrap from us
			cfg.Bootstrap = []peer.AddrInfo{}
			continue
		}
		p, err := peer.AddrInfoFromString(s)
		if err != nil {
			return nil, usagef("--bootstrap %q is not a peer multiaddr (/ip4/.../p2p/ID): %v", s, err)
		}
		cfg.Bootstrap = append(cfg.Bootstrap, *p)
	}
	for _, s := range o.relays {
		p, err := peer.AddrInfoFromString(s)
		if err != nil {
			return nil, usagef("--use-relay %q is not a peer multiaddr (/ip4/.../p2p/ID): %v", s, err)
		}
		cfg.Relays = append(cfg.Relays, *p)
	}
	if o.maxStorage != "" {
		n, err := parseStorage(o.maxStorage)
		if err != nil {
			return nil, usagef("--max-storage %q: %v", o.maxStorage, err)
		}
		cfg.MaxStorage = n
	}
	if o.relay {
		lim := pollen.RelayLimits{Duration: o.relayDuration, Reservations: o.relayReservations}
		if o.relayData != "" {
			n, err := humanize.ParseBytes(o.relayData)
			if err != nil || n > math.MaxInt64 {
				return nil, usagef("--relay-max-data %q: want a size such as 10GiB or 500MB", o.relayData)
			}
			lim.Data = int64(n)
		}
		if o.relayDuration < 0 || o.relayReservations < 0 {
			return nil, usagef("relay limits cannot be negative")
		}
		cfg.RelayService = &lim
	}
	node, err := pollen.Open(dir, cfg)
	if err != nil {
		return nil, err
	}
	// The network, when it starts, runs with the repo's saved limits and
	// the rate flags over them.
	lim, err := runLimitsOf(node, o)
	if err == nil {
		err = node.SetLimits(lim)
	}
	if err != nil {
		node.Close()
		return nil, err
	}
	return node, nil
}

// openOnline opens the repo and starts the network.
func openOnline(o *opts) (*pollen.Node, error) {
	node, err := openNode(o)
	if err != nil {
		return nil, err
	}
	if err := node.StartNetwork(); err != nil {
		node.Close()
		return nil, err
	}
	return node, nil
}

// serve prints where the node can be reached and serves until ctx ends
// (Ctrl-C), then says what it sent.
func serve(ctx context.Context, e *env, node *pollen.Node, roots ...cid.Cid) {
	node.ScrubWhileServing()
	err := node.StartSeeding(func(st pollen.SeedStat) {
		fmt.Fprintf(e.stderr, "stopped seeding %s: %s (uploaded %s to %d %s)\n", ui.Escape(st.Name), st.Reason,
			humanize.IBytes(uint64(st.Uploaded)), st.Peers, plural(st.Peers, "peer", "peers"))
	})
	if err != nil {
		fmt.Fprintf(e.stderr, "seeding rules off: %v\n", err)
	}
	printNode(e.stdout, node)
	fmt.Fprintln(e.stderr, "serving; press Ctrl-C to stop")
	var following sync.WaitGroup
	following.Add(1)
	go func() {
		defer following.Done()
		followReach(ctx, e, node, roots)
	}()
	<-ctx.Done()
	following.Wait()
	var sent int64
	peers := 0
	for _, st := range node.Traffic() {
		if st.Sent > 0 {
			sent += st.Sent
			peers++
		}
	}
	fmt.Fprintf(e.stderr, "stopped; sent %s (%d bytes) to %d %s\n", humanize.IBytes(uint64(sent)), sent, peers, plural(peers, "peer", "peers"))
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "pollen shares folders peer to peer, in IPFS formats.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: pollen [--repo DIR] COMMAND [ARGS]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "The repository is --repo DIR, else $POLLEN_REPO, else ~/.pollen.")
	fmt.Fprintln(w, "Run 'pollen help COMMAND' for more.")
}

func help(w io.Writer, args []string) error {
	if len(args) == 0 {
		printUsage(w)
		return nil
	}
	c, ok := commands[args[0]]
	if !ok {
		return usagef("unknown command %q (see 'pollen help')", args[0])
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	var o opts
	fs.StringVar(&o.repo, "repo", "", "repository folder (default $POLLEN_REPO or ~/.pollen)")
	if c.flags != nil {
		c.flags(fs, &o)
	}
	commandHelp(w, c, fs)
	return nil
}

func commandHelp(w io.Writer, c *command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: pollen %s %s\n\n%s\n", c.name, c.args, c.summary)
	if c.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.help))
	}
	fmt.Fprintln(w, "\nFlags:")
	printFlags(w, fs)
}

// printFlags lists fs's flags as the README writes them: --name VALUE,
// then what it does (Go's own listing writes -name).
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		kind, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		switch {
		case kind == "value":
			line += " VALUE"
		case kind != "":
			line += " " + strings.ToUpper(kind)
		}
		fmt.Fprintf(w, "%s\n      %s", line, usage)
		if d := f.DefValue; d != "" && d != "false" && d != "0" && d != "0s" && d != "[]" {
			fmt.Fprintf(w, " (default %s)", d)
		}
		fmt.Fprintln(w)
	})
}

// parseRate reads a rate a second: bytes ("2MiB", "500KB") or bits
// ("5Mbit", "800kbit"), as people write them; "0" or "none" is no limit.
func parseRate(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSpace(s), "/s")
	if t == "0" || strings.EqualFold(t, "none") {
		return 0, nil
	}
	bits := false
	if strings.HasSuffix(strings.ToLower(t), "bit") {
		t, bits = t[:len(t)-3], true
	}
	n, err := humanize.ParseBytes(t)
	if err != nil || n == 0 || n > math.MaxInt64/8 {
		return 0, fmt.Errorf("want a rate such as 5Mbit or 2MiB (a second), or 0 for none")
	}
	if bits {
		n /= 8
	}
	return int64(n), nil
}

// parseStorage reads a storage size as people write it: 50GB, 500MiB,
// 1.5TB (decimal or binary units).
func parseStorage(s string) (int64, error) {
	n, err := humanize.ParseBytes(strings.TrimSpace(s))
	if err != nil || n == 0 || n > math.MaxInt64 {
		return 0, fmt.Errorf("want a size such as 50GB, 500MiB or 1.5TB")
	}
	return int64(n), nil
}
