package ui

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/schollz/progressbar/v3"
)

// Bar shows the progress of one add or get. It satisfies pollen.Progress.
// Create it with NewBar and call Done when the work ends.
type Bar interface {
	Progress(done, total int64)
	// SetPeers tells how many peers are sending.
	SetPeers(n int)
	// Done finishes the display after success: the full bar, or the last line.
	Done()
	// Abort ends the display after a failure, leaving the line clear for
	// the error.
	Abort()
}

// NewBar returns a progress display for the verb ("add", "get") on w:
// an interactive bar when w is a terminal, otherwise plain lines at most
// every quarter of the way or every few seconds.
func NewBar(w io.Writer, verb string, terminal bool) Bar {
	if terminal {
		return &termBar{w: w, verb: verb}
	}
	return &lineBar{w: w, verb: verb, start: time.Now(), last: time.Now()}
}

// Both bars measure from the first count they are given: a resumed get
// starts with part of the content already here, and counting that as
// transferred in the first instant would make the rate and ETA lie.
type termBar struct {
	mu    sync.Mutex
	w     io.Writer
	verb  string
	peers int
	base  int64 // already done at the first call
	bar   *progressbar.ProgressBar
}

func (b *termBar) SetPeers(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n == b.peers {
		return
	}
	b.peers = n
	if b.bar != nil {
		b.bar.Describe(b.describe())
	}
}

func (b *termBar) describe() string {
	if b.peers == 0 {
		return b.verb
	}
	return fmt.Sprintf("%s from %d %s", b.verb, b.peers, map[bool]string{true: "peer", false: "peers"}[b.peers == 1])
}

func (b *termBar) Progress(done, total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar == nil {
		b.base = done
		if done > 0 && done < total {
			fmt.Fprintf(b.w, "%s: %s of %s already here\n", b.verb, humanize.IBytes(uint64(done)), humanize.IBytes(uint64(total)))
		}
		b.bar = progressbar.NewOptions64(total-b.base,
			progressbar.OptionSetWriter(b.w),
			progressbar.OptionSetDescription(b.describe()),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowTotalBytes(true),
			progressbar.OptionUseIECUnits(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(b.w) }),
			progressbar.OptionSetRenderBlankState(true),
		)
	}
	if total-b.base != b.bar.GetMax64() {
		b.bar.ChangeMax64(total - b.base)
	}
	b.bar.Set64(done - b.base)
}

func (b *termBar) Abort() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar != nil {
		b.bar.Exit()
		fmt.Fprintln(b.w)
	}
}

func (b *termBar) Done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar != nil && !b.bar.IsFinished() {
		b.bar.Finish()
	}
}

// lineBar prints "verb: 512 MiB of 1.0 GiB (50%), 410 MiB/s" now and then.
type lineBar struct {
	mu          sync.Mutex
	w           io.Writer
	verb        string
	start, last time.Time
	quarter     int64
	base        int64 // already done at the first call
	started     bool
	done, total int64
	peers       int
	printed     bool
}

func (b *lineBar) SetPeers(n int) {
	b.mu.Lock()
	b.peers = n
	b.mu.Unlock()
}

const lineEvery = 5 * time.Second

func (b *lineBar) Progress(done, total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.started {
		b.started, b.base, b.start = true, done, time.Now()
	}
	b.done, b.total = done, total
	q := int64(4)
	if total > 0 {
		q = done * 4 / total
	}
	if q > b.quarter && done < total || time.Since(b.last) >= lineEvery {
		b.quarter = q
		b.line()
	}
}

func (b *lineBar) line() {
	b.last = time.Now()
	b.printed = true
	secs := time.Since(b.start).Seconds()
	rate := ""
	if secs > 0 {
		rate = ", " + humanize.IBytes(uint64(float64(b.done-b.base)/secs)) + "/s"
	}
	pct := 100.0
	if b.total > 0 {
		pct = float64(b.done) * 100 / float64(b.total)
	}
	from := ""
	if b.peers > 0 {
		from = fmt.Sprintf(", from %d %s", b.peers, map[bool]string{true: "peer", false: "peers"}[b.peers == 1])
	}
	fmt.Fprintf(b.w, "%s: %s of %s (%.0f%%%s%s)\n", b.verb, humanize.IBytes(uint64(b.done)), humanize.IBytes(uint64(b.total)), pct, rate, from)
}

func (b *lineBar) Abort() {}

func (b *lineBar) Done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.total > 0 {
		b.line()
	}
}
