package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// lsEntry is what ls --json lists: shares, and live folders (kind
// "live").
type lsEntry struct {
	Name, Kind, CID, Ticket string
	Live                    *struct {
		Follow    bool
		Name, Dir string
		Seq       uint64
		Conflicts []string
	}
}

func lsJSON(t *testing.T, repo string) (shares, lives []lsEntry) {
	t.Helper()
	var all []lsEntry
	out := run(t, repo, "ls", "--json").ok(t).stdout
	if err := json.Unmarshal([]byte(out), &all); err != nil {
		t.Fatalf("ls --json: %v\n%s", err, out)
	}
	for _, e := range all {
		if e.Kind == "live" {
			if e.Live == nil {
				t.Fatalf("ls --json: a live entry without its state: %s", out)
			}
			lives = append(lives, e)
		} else {
			shares = append(shares, e)
		}
	}
	return shares, lives
}

// waitLive waits until ls --json lists one live folder at version seq.
func waitLive(t *testing.T, repo string, seq uint64) lsEntry {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		_, lives := lsJSON(t, repo)
		if len(lives) == 1 && lives[0].Live.Seq == seq {
			return lives[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("ls --json lists %+v, want one live folder at version %d", lives, seq)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func liveTicket(t *testing.T, out string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "ticket" {
			return f[1]
		}
	}
	t.Fatalf("no ticket in %q", out)
	return ""
}

// TestUnfollowAndRmLiveWithDaemons: through running daemons, share
// --live and follow return at once, ls --json lists both (kind "live",
// version, ticket), ls says a live folder's error, unfollow and rm each
// refuse the other's kind and say which command stops it, and each
// stops its own by name or by folder: the daemons forget them, versions
// and all, and the files stay.
func TestUnfollowAndRmLiveWithDaemons(t *testing.T) {
	repoA, repoB := t.TempDir(), t.TempDir()
	startDaemon(t, repoA)
	startDaemon(t, repoB)
	src := filepath.Join(t.TempDir(), "notes")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("one"), 0o644)
	ticket := liveTicket(t, run(t, repoA, "share", "--live", src).ok(t).stdout)
	shared := waitLive(t, repoA, 1)
	if shared.Live.Follow || shared.Live.Dir != src || shared.Ticket != ticket || shared.CID == "" || shared.Name != "notes" {
		t.Errorf("ls --json of the live share: %+v %+v", shared, shared.Live)
	}
	mirror := filepath.Join(t.TempDir(), "mirror")
	run(t, repoB, "follow", ticket, "-o", mirror).ok(t)
	followed := waitLive(t, repoB, 1)
	if !followed.Live.Follow || followed.Live.Dir != mirror || followed.Live.Name != shared.Live.Name {
		t.Errorf("ls --json of the follow: %+v %+v", followed, followed.Live)
	}
	if b, _ := os.ReadFile(filepath.Join(mirror, "a.txt")); string(b) != "one" {
		t.Fatalf("the mirror holds %q", b)
	}
	if ls := run(t, repoB, "ls").ok(t); !strings.Contains(ls.stdout, "follow") || !strings.Contains(ls.stdout, mirror) || !strings.Contains(ls.stdout, ", live version") {
		t.Errorf("ls does not list the follow:\n%s", ls.stdout)
	}

	// A folder moved away: ls says so.
	if err := os.Rename(src, src+".moved"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		ls := run(t, repoA, "ls").ok(t)
		if strings.Contains(ls.stderr, "live "+src+": the folder "+src+" or a file in it is gone") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ls does not say the folder is gone:\n%s", ls.stderr)
		}
	}
	if err := os.Rename(src+".moved", src); err != nil {
		t.Fatal(err)
	}

	run(t, repoB, "rm", mirror).fails(t, "'pollen unfollow "+mirror+"' stops it")
	run(t, repoA, "unfollow", src).fails(t, "'pollen rm "+src+"' stops it")
	if r := run(t, repoB, "unfollow", "nothing-here"); r.code != 3 || !strings.Contains(r.stderr, "no live folder") {
		t.Errorf("unfollow of nothing: exit %d, %q", r.code, r.stderr)
	}

	if r := run(t, repoB, "unfollow", followed.Live.Name).ok(t); !strings.HasPrefix(r.stdout, "stopped following "+followed.Live.Name+" into "+mirror) {
		t.Errorf("unfollow printed %q", r.stdout)
	}
	if shares, lives := lsJSON(t, repoB); len(shares)+len(lives) != 0 {
		t.Errorf("after unfollow B keeps %+v %+v", shares, lives)
	}
	cmd := pollenCmd(t, repoA, "rm", "notes")
	cmd.Dir = filepath.Dir(src) // the folder named from where it is
	if r := runCmd(t, cmd).ok(t); !strings.HasPrefix(r.stdout, "removed live share "+shared.Live.Name) {
		t.Errorf("rm of the live share printed %q", r.stdout)
	}
	if shares, lives := lsJSON(t, repoA); len(shares)+len(lives) != 0 {
		t.Errorf("after rm A keeps %+v %+v", shares, lives)
	}
	if b, _ := os.ReadFile(filepath.Join(mirror, "a.txt")); string(b) != "one" {
		t.Errorf("after unfollow the mirror holds %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(src, "a.txt")); string(b) != "one" {
		t.Errorf("after rm the folder holds %q", b)
	}
}

// TestUnfollowWithoutDaemon: a follow run in the foreground, stopped
// with Ctrl-C, is stopped for good by unfollow in the repo itself: ls
// lists it no more, nor its version, and the mirror stays. The command
// is told when mistyped and completes in the shell.
func TestUnfollowWithoutDaemon(t *testing.T) {
	src := filepath.Join(t.TempDir(), "notes")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "a.txt"), []byte("one"), 0o644)
	a := startServerArgs(t, t.TempDir(), append([]string{"share", "--live", src}, isolated...))
	repoB, mirror := t.TempDir(), filepath.Join(t.TempDir(), "mirror")
	follow := pollenCmd(t, repoB, append([]string{"follow", a.ticket, "-o", mirror}, isolated...)...)
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { follow.Process.Kill(); follow.Wait() })
	for deadline := time.Now().Add(45 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if b, _ := os.ReadFile(filepath.Join(mirror, "a.txt")); string(b) == "one" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the mirror did not fill")
		}
	}
	follow.Process.Signal(os.Interrupt)
	follow.Wait()
	shares, lives := lsJSON(t, repoB)
	if len(lives) != 1 || !lives[0].Live.Follow || len(shares) != 1 {
		t.Fatalf("ls --json before unfollow: %+v %+v", shares, lives)
	}
	if r := run(t, repoB, "unfollow", mirror).ok(t); !strings.HasPrefix(r.stdout, "stopped following") {
		t.Errorf("unfollow printed %q", r.stdout)
	}
	if shares, lives := lsJSON(t, repoB); len(shares)+len(lives) != 0 {
		t.Errorf("after unfollow: %+v %+v", shares, lives)
	}
	if b, _ := os.ReadFile(filepath.Join(mirror, "a.txt")); string(b) != "one" {
		t.Errorf("after unfollow the mirror holds %q", b)
	}
	if r := run(t, repoB, "unfollow", mirror); r.code != 3 {
		t.Errorf("unfollow again: exit %d, want 3 (not found)\n%s", r.code, r.stderr)
	}

	run(t, repoB, "unfolow", mirror).fails(t, `did you mean "unfollow"?`)
	script := filepath.Join(t.TempDir(), "pollen.bash")
	os.WriteFile(script, []byte(run(t, repoB, "completion", "bash").ok(t).stdout), 0o644)
	out, err := exec.Command("bash", "-c", `source "$0"; COMP_WORDS=(pollen unf); COMP_CWORD=1; _pollen; echo "${COMPREPLY[*]}"`, script).CombinedOutput()
	if err != nil || string(out) != "unfollow\n" {
		t.Errorf("bash completion of unf: %v %q", err, out)
	}
	if h := run(t, repoB, "help").ok(t); !strings.Contains(h.stdout, "\n  unfollow ") {
		t.Errorf("help does not list unfollow:\n%s", h.stdout)
	}
}
