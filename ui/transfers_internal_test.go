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

// The list keeps every get that runs or is paused and the last
// keepEnded that ended; it does not grow with every get a daemon ran.
func TestTransfersListIsCapped(t *testing.T) {
	var ts transfers
	paused := ts.start(&Transfer{Kind: "get"})
	paused.State = "paused"
	for range 3 * keepEnded {
		tr := ts.start(&Transfer{Kind: "get"})
		ts.update(func() {
			tr.State = "done"
			ts.trim()
		})
	}
	running := ts.start(&Transfer{Kind: "get"})
	list := ts.snapshot()
	if len(list) != keepEnded+2 || list[0].ID != paused.ID || list[len(list)-1].ID != running.ID || list[1].ID != 2*keepEnded+2 {
		t.Errorf("list of %d: first %d, second %d, last %d", len(list), list[0].ID, list[1].ID, list[len(list)-1].ID)
	}
}
