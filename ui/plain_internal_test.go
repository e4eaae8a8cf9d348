package ui

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/pollen-p2p/pollen"
)

// Each kind of failure a get or an add meets reads as a sentence for
// people, with its code; the raw error is kept whole as the detail.
func TestExplainSaysItPlainly(t *testing.T) {
	get := &Transfer{Kind: "get", Name: "film", Done: 3879731, Total: 30 << 20, rec: &pollen.GetRecord{Dir: "/home/ann/Downloads"}}
	fresh := &Transfer{Kind: "get", Name: "film", rec: &pollen.GetRecord{Dir: "/d"}}
	forced := &Transfer{Kind: "get", Name: "film", rec: &pollen.GetRecord{Dir: "/d", Force: true}}
	add := &Transfer{Kind: "add", Name: "x"}
	for _, tc := range []struct {
		t    *Transfer
		err  error
		code string
		want string
	}{
		{get, fmt.Errorf("get bafy: %w: nothing arrived for 1m0s (...)", pollen.ErrNoPeers), CodeNoPeers, "the sharer went offline; 3.7 MiB of 30 MiB kept"},
		{fresh, fmt.Errorf("get bafy: %w: nothing arrived", pollen.ErrNoPeers), CodeNoPeers, "no holder answered"},
		{get, fmt.Errorf("export bafy: /home/ann/Downloads/film/a: %w with other content (use --force to replace it)", pollen.ErrExists), CodeExists, "other files are already in /home/ann/Downloads/film"},
		{get, fmt.Errorf("export bafy: /d/film: %w: another get is writing there", pollen.ErrExists), CodeBusy, "another get is writing"},
		{forced, fmt.Errorf("/d/film: %w and is not a folder", pollen.ErrExists), CodeExists, "is in the way"},
		{get, fmt.Errorf("get bafy: %w: the files need 2 GiB", pollen.ErrNoSpace), CodeNoSpace, "not enough free space in /home/ann/Downloads"},
		{get, fmt.Errorf("get bafy: %w", pollen.ErrDiskFull), CodeDiskFull, "disk of pollen's store is full"},
		{get, fmt.Errorf("export bafy: %w", context.Canceled), CodeStopped, "stopped before it finished; 3.7 MiB of 30 MiB kept"},
		{get, fmt.Errorf("get bafy: %w: ..", pollen.ErrUnsafeName), CodeUnsafe, "nothing was written"},
		{add, fmt.Errorf("add /x: %w", fs.ErrNotExist), CodeNotFound, "nothing at that path"},
		{add, fmt.Errorf("add /x: %w", fs.ErrPermission), CodeDenied, "permission denied"},
		{get, fmt.Errorf("get bafy: something new\nand more"), CodeOther, "something new"},
	} {
		code, sentence, detail := explain(tc.err, tc.t)
		if code != tc.code || !strings.Contains(sentence, tc.want) || detail != tc.err.Error() || strings.Contains(sentence, "bafy") {
			t.Errorf("%v: %s %q, want %s with %q", tc.err, code, sentence, tc.code, tc.want)
		}
	}
}

// A transfer whose bytes stop coming shows a rate of 0 and no ETA once
// the rate's window has passed, not the last rate frozen; before its
// first byte it is looking for holders.
func TestStalledRateFalls(t *testing.T) {
	var ts transfers
	tr := ts.start(&Transfer{Kind: "get"})
	if got := ts.snapshot()[0]; !got.Looking || got.Stalled {
		t.Errorf("before the first byte: looking %v, stalled %v", got.Looking, got.Stalled)
	}
	now := time.Now()
	tr.Started = now.Add(-30 * time.Second)
	for i := range 5 {
		tr.m.setMoved(int64(i+1)<<20, now.Add(time.Duration(i-20)*time.Second))
	}
	tr.Done, tr.Total = 5<<20, 30<<20
	got := ts.snapshot()[0]
	if !got.Stalled || got.Looking || got.Rate != 0 || got.ETA != 0 {
		t.Errorf("nothing for 15 s: stalled %v, looking %v, rate %.0f, ETA %.1f", got.Stalled, got.Looking, got.Rate, got.ETA)
	}
}

// A live folder's last error, kept as text, reads as a sentence; one
// of no known kind is its first line without the folder repeated.
func TestLiveWhy(t *testing.T) {
	follow := func(err string) pollen.LiveInfo { return pollen.LiveInfo{Follow: true, Dir: "/m", Err: err} }
	share := func(err string) pollen.LiveInfo { return pollen.LiveInfo{Dir: "/s", Err: err} }
	for _, tc := range []struct {
		li   pollen.LiveInfo
		want string
	}{
		{follow(""), ""},
		{follow(fmt.Sprintf("get bafy: %v: nothing arrived for 1m0s", pollen.ErrNoPeers)), "the sharer may be offline; pollen keeps trying"},
		{follow(fmt.Sprintf("export bafy: %v: the files need 2 GiB", pollen.ErrNoSpace)), "not enough free space for the new version in /m"},
		{follow("seed bafy: needs 3.0 MiB, the quota leaves 1.0 MiB (--max-storage 10 MiB; ...)"), "the storage quota is full"},
		{follow(fmt.Sprintf("mirror /m: %v: ..", pollen.ErrUnsafeName)), "the mirror stays as it was"},
		{follow("mirror /m: open /m/a: permission denied"), "pollen may not read or write in /m"},
		{share("share --live /s: open /s: no such file or directory"), "the folder /s or a file in it is gone"},
		{share("share --live /s: something new\nand more"), "something new"},
	} {
		got := liveWhy(tc.li)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("%q: %q, want it to say %q", tc.li.Err, got, tc.want)
		}
		if tc.want == "something new" && got != "something new" {
			t.Errorf("%q: %q, want the first line without the folder", tc.li.Err, got)
		}
	}
}
