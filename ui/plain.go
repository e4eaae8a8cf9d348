package ui

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/pollen-p2p/pollen"
)

// Why a get or an add failed, in one sentence for the person at the page:
// Node.Get's errors name CIDs, paths and Go's words ("export bafy…:
// context canceled"), which say what broke to a programmer, not what to
// do to the one waiting for the files. The error as Go wrote it stays
// beside the sentence (Transfer.Detail), and a code says its kind to
// programs (the page asks before replacing files on "exists").

// Codes of Transfer.Code and of an API error's "code".
const (
	CodeExists   = "exists"    // other files are in the way: the same get with force replaces them
	CodeBusy     = "busy"      // another get writes to the same place
	CodeNoPeers  = "no_peers"  // nothing came from any peer for the stall time
	CodeNoSpace  = "no_space"  // the target has not enough free space
	CodeDiskFull = "disk_full" // the repo's disk is full
	CodeQuota    = "quota"     // past the storage quota
	CodeTooLarge = "too_large" // past the export's budget
	CodeUnsafe   = "unsafe"    // a name that cannot be written safely
	CodeTicket   = "bad_ticket"
	CodeNotFound = "not_found" // a path to share that is not there
	CodeDenied   = "denied"    // no permission
	CodeStopped  = "stopped"   // the run was canceled
	CodeOther    = "other"
)

// explain turns err, which ended t, into a code, a sentence and the raw
// error. Called with the transfers' lock held (it reads t).
func explain(err error, t *Transfer) (code, sentence, detail string) {
	detail = err.Error()
	where := t.Name
	if t.rec != nil {
		where = filepath.Join(t.rec.Dir, t.Name)
	}
	kept := ""
	if t.Total > 0 {
		kept = fmt.Sprintf("; %s of %s kept", size(t.Done), size(t.Total))
	}
	switch {
	case errors.Is(err, pollen.ErrExists) && strings.Contains(detail, "another get is writing there"):
		return CodeBusy, "another get is writing to " + where + ": wait for it, or cancel it", detail
	case errors.Is(err, pollen.ErrExists) && (t.rec == nil || !t.rec.Force):
		return CodeExists, "other files are already in " + where + ": nothing was replaced", detail
	case errors.Is(err, pollen.ErrExists):
		return CodeExists, "a folder or link in " + where + " is in the way: it is never replaced; move it or choose another folder", detail
	case errors.Is(err, pollen.ErrNoPeers) && t.Done > 0:
		return CodeNoPeers, "the sharer went offline" + kept + ": retry when they are back", detail
	case errors.Is(err, pollen.ErrNoPeers):
		return CodeNoPeers, "no holder answered: the sharer may be offline, or not reachable from here", detail
	case errors.Is(err, pollen.ErrBadTicket):
		return CodeTicket, "this ticket is damaged or cut short: copy it again", detail
	case errors.Is(err, pollen.ErrNoSpace):
		dir := filepath.Dir(where)
		return CodeNoSpace, "not enough free space in " + dir + kept + ": free some, or choose another folder", detail
	case errors.Is(err, pollen.ErrDiskFull):
		return CodeDiskFull, "the disk of pollen's store is full" + kept + ": free some space, then retry", detail
	case errors.Is(err, pollen.ErrQuota):
		return CodeQuota, "the storage quota is full: remove a share or raise --max-storage", detail
	case errors.Is(err, pollen.ErrTooLarge):
		return CodeTooLarge, "the share is larger than a get takes (files, depth or path length): nothing was written", detail
	case errors.Is(err, pollen.ErrUnsafeName), errors.Is(err, pollen.ErrUnsafeCID):
		return CodeUnsafe, "the share holds a name or link pollen will not write: nothing was written", detail
	case errors.Is(err, fs.ErrNotExist) && t.Kind == "add":
		return CodeNotFound, "there is nothing at that path on the daemon's machine", detail
	case errors.Is(err, fs.ErrPermission):
		return CodeDenied, "pollen may not read or write there (permission denied)", detail
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return CodeStopped, "stopped before it finished" + kept, detail
	}
	return CodeOther, firstLine(detail), detail
}

// size writes n bytes as the command line does: 3.7 MiB.
func size(n int64) string { return humanize.IBytes(uint64(max(n, 0))) }

// firstLine is an error's first line, without the "get CID: " or
// "export CID: " prefixes that repeat what the page shows.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	for _, p := range []string{"get ", "export ", "add "} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			if _, after, ok := strings.Cut(rest, ": "); ok {
				s = after
			}
		}
	}
	return s
}

// liveWhy says a live folder's last error in one sentence. The error
// is kept as text (LiveInfo.Err, saved in lives.json, so a restarted
// daemon still says it), so its kind is read from the words its
// sentinel and the system wrote, checked most particular first.
func liveWhy(li pollen.LiveInfo) string {
	e := li.Err
	if e == "" {
		return ""
	}
	has := func(err error) bool { return strings.Contains(e, err.Error()) }
	switch {
	case has(pollen.ErrNoPeers) && li.Follow:
		return "no holder of the new version answered: the sharer may be offline; pollen keeps trying"
	case has(pollen.ErrNoSpace):
		return "not enough free space for the new version in " + li.Dir + ": free some; pollen keeps trying"
	case has(pollen.ErrDiskFull):
		return "the disk of pollen's store is full: free some space; pollen keeps trying"
	case strings.Contains(e, "--max-storage"):
		return "the storage quota is full: remove a share or raise --max-storage"
	case has(pollen.ErrUnsafeName), has(pollen.ErrUnsafeCID):
		return "the new version holds a name or link pollen will not write: the mirror stays as it was"
	case has(pollen.ErrTooLarge):
		return "the new version is larger than pollen takes (files, depth or path length): the mirror stays as it was"
	case strings.Contains(e, "permission denied"):
		return "pollen may not read or write in " + li.Dir + " (permission denied)"
	case strings.Contains(e, "no such file or directory") && !li.Follow:
		return "the folder " + li.Dir + " or a file in it is gone: moved or deleted? Share it again where it is now"
	case strings.Contains(e, "no such file or directory"):
		return "a file or folder of the mirror " + li.Dir + " is gone: pollen writes it again with the next version"
	}
	e, _, _ = strings.Cut(e, "\n")
	for _, p := range []string{"share --live " + li.Dir + ": ", "mirror " + li.Dir + ": "} {
		e = strings.TrimPrefix(e, p)
	}
	return e
}
