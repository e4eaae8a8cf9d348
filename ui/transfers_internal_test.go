package ui

import (
	"testing"
	"time"
)

// A running transfer that saw nothing arrive for stallAfter says so, and
// has no ETA; one that moves has a rate counted from what it received,
// not from what it found on disk.
func TestTransferStalls(t *testing.T) {
	var ts transfers
	tr := ts.start(&Transfer{Kind: "get"})
	now := time.Now()
	tr.m.set(60<<20, 100<<20, now.Add(-3*time.Second)) // resumed: 60 MiB here
	tr.m.setMoved(0, now.Add(-3*time.Second))
	tr.m.setMoved(10<<20, now.Add(-2*time.Second))
	tr.m.setMoved(30<<20, now.Add(-time.Second))
	tr.Done, tr.Total = 90<<20, 100<<20
	got := ts.snapshot()[0]
	if got.Stalled || got.Rate < 10<<20 || got.Rate > 25<<20 || got.ETA <= 0 {
		t.Errorf("moving: stalled %v, rate %.0f, ETA %.1f", got.Stalled, got.Rate, got.ETA)
	}
	tr.Started = now.Add(-time.Minute)
	tr.m.lastMove = now.Add(-stallAfter - time.Second)
	if got := ts.snapshot()[0]; !got.Stalled {
		t.Errorf("nothing for %s: not stalled", stallAfter+time.Second)
	}
	tr.State = "done"
	if got := ts.snapshot()[0]; got.Stalled || got.ETA != 0 {
		t.Errorf("done: stalled %v, ETA %.1f", got.Stalled, got.ETA)
	}
}
