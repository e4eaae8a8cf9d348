package ui

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/schollz/progressbar/v3"
)

// Bar shows the progress of one add or get. It satisfies pollen.Progress.
// Create it with NewBar and call Done or Abort when the work ends.
type Bar interface {
	// Progress tells the bytes done of total; nothing is shown until the
	// total is known.
	Progress(done, total int64)
	// Moved tells, of done, the bytes that came over the network in this
	// run and those found already here (a resumed get): the rate and ETA
	// count only what moved, and a get that found some says "resuming".
	// Without it (an add), everything done counts as moved.
	Moved(moved, here int64)
	// SetPeers tells how many peers are sending.
	SetPeers(n int)
	// Done finishes the display after success: the full bar, or the last line.
	Done()
	// Abort ends the display after a failure, leaving the line clear for
	// the error.
	Abort()
}

// NewBar returns a progress display for the verb ("add", "get", "add
// PATH") on w: an interactive bar when w is a terminal, otherwise plain
// lines at most every quarter of the way or every few seconds. The bar
// draws with control sequences, so w is the terminal itself; the verb is
// escaped here, since a path in it may hold a stranger's name.
func NewBar(w io.Writer, verb string, terminal bool) Bar {
	// The first plain line waits for a quarter or lineEvery, so that a
	// resumed get has counted what it found here before it says so.
	return &bar{w: w, verb: Escape(verb), terminal: terminal, last: time.Now()}
}

// bar is both displays: they differ only in how a state is drawn.
type bar struct {
	mu       sync.Mutex
	w        io.Writer
	verb     string
	terminal bool
	m        meter
	peers    int
	pb       *progressbar.ProgressBar // terminal, once the total is known
	quarter  int64                    // lines: the last quarter printed
	last     time.Time                // lines: when the last one was printed
	printed  bool
	said     bool  // "resuming: ..." said
	here     int64 // bytes a get found already here
}

// lineEvery is how often plain lines come when the quarters come slower.
const lineEvery = 5 * time.Second

func (b *bar) Moved(moved, here int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.m.setMoved(moved, time.Now())
	b.here = here
}

func (b *bar) SetPeers(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.peers = n
}

func (b *bar) Progress(done, total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	b.m.set(done, total, now)
	if total <= 0 || (!b.m.started() && done < total) {
		// Nothing honest to show before the total is known, nor before a
		// byte moves: what a resumed get finds here comes first.
		return
	}
	if b.terminal {
		b.draw(now)
		return
	}
	q := done * 4 / total
	// done == total is Done's to print.
	if done < total && (q > b.quarter || now.Sub(b.last) >= lineEvery) {
		b.quarter = q
		b.line(now)
	}
}

// resuming says, once, what a get found already here, the first time it
// has found some: a get's walk counts what is here as it goes. Not for
// adds (nothing is told moved). Called with mu held.
func (b *bar) resuming() {
	if b.said || !b.m.told {
		return
	}
	if here := b.here; here > 0 && here < b.m.total {
		b.said = true
		if b.pb != nil {
			fmt.Fprint(b.w, "\r\x1b[K") // the bar is redrawn below the line
		}
		fmt.Fprintf(b.w, "resuming: %s of %s already here\n", humanize.IBytes(uint64(here)), humanize.IBytes(uint64(b.m.total)))
	}
}

// draw updates the terminal bar: progressbar draws the bar and the
// percentage, the stats that follow it are the meter's.
func (b *bar) draw(now time.Time) {
	b.resuming()
	if b.pb == nil {
		b.pb = progressbar.NewOptions64(b.m.total,
			progressbar.OptionSetWriter(b.w),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionShowBytes(false),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionSetElapsedTime(false),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionUseANSICodes(true),
		)
	}
	if b.pb.GetMax64() != b.m.total {
		b.pb.ChangeMax64(b.m.total)
	}
	b.pb.Describe(b.verb + ": " + b.stats(now, true))
	b.pb.Set64(b.m.done)
}

// stats is "12 MiB of 40 MiB, 3.1 MiB/s, 9s left, from 2 peers".
func (b *bar) stats(now time.Time, eta bool) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s of %s", humanize.IBytes(uint64(b.m.done)), humanize.IBytes(uint64(b.m.total)))
	if r := b.m.rate(now); r > 0 {
		fmt.Fprintf(&sb, ", %s/s", humanize.IBytes(uint64(r)))
		if left := b.m.total - b.m.done; eta && left > 0 {
			fmt.Fprintf(&sb, ", %s left", roundETA(time.Duration(float64(left)/r*float64(time.Second))))
		}
	}
	if b.peers > 0 {
		fmt.Fprintf(&sb, ", from %d %s", b.peers, plural(b.peers, "peer", "peers"))
	}
	if !b.m.end.IsZero() && b.m.told {
		fmt.Fprintf(&sb, ", %s received", humanize.IBytes(uint64(b.m.moved)))
	}
	return sb.String()
}

// line prints "get: 512 MiB of 1.0 GiB (50%, 410 MiB/s, 1s left, from 2 peers)".
func (b *bar) line(now time.Time) {
	b.resuming()
	b.last = now
	b.printed = true
	pct := float64(b.m.done) * 100 / float64(b.m.total)
	s := b.stats(now, true)
	of := strings.Index(s, ",")
	if of < 0 {
		fmt.Fprintf(b.w, "%s: %s (%.0f%%)\n", b.verb, s, pct)
		return
	}
	fmt.Fprintf(b.w, "%s: %s (%.0f%%%s)\n", b.verb, s[:of], pct, s[of:])
}

func (b *bar) Abort() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pb != nil {
		b.pb.Exit()
		fmt.Fprintln(b.w)
	}
}

func (b *bar) Done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m.total <= 0 {
		return
	}
	now := time.Now()
	b.m.done = b.m.total
	b.m.end = now
	if b.terminal {
		b.draw(now)
		b.pb.Finish()
		fmt.Fprintln(b.w)
		return
	}
	b.line(now)
}

// roundETA keeps an estimate to the precision it has.
func roundETA(d time.Duration) time.Duration {
	switch {
	case d < time.Minute:
		return d.Round(time.Second)
	case d < time.Hour:
		return d.Round(10 * time.Second)
	default:
		return d.Round(time.Minute)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
