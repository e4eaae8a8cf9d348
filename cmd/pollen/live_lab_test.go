package main_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pollen-p2p/pollen/internal/testdata"
)

// The live folder of issue 15 end to end, with the built binary: one
// 'pollen share --live' and three followers, each in a network namespace
// of its own on one LAN (lan_test.go), so every byte a node sends or
// receives crosses its own link and is counted there. Followers a and b
// run 'pollen follow' in the foreground; c runs a daemon and hands it
// the follow, as a user who keeps a daemon does.

// liveFlags: each node listens on its LAN address, TCP and QUIC, with no
// DHT and no mDNS: followers find the sharer by the ticket, and each
// other by peer exchange.
var liveFlags = []string{"--listen", "/ip4/0.0.0.0/tcp/4011", "--listen", "/ip4/0.0.0.0/udp/4011/quic-v1", "--offline", "--no-mdns"}

// A change reaches every mirror within this on a loaded CI machine; the
// test logs the real figure. The quiet period alone is 2 s.
const changeWithin = 30 * time.Second

// liveFollow is a foreground 'pollen follow' in a namespace.
type liveFollow struct {
	t              *testing.T
	host           *lanHost
	repo, dir      string
	args           []string
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	done           chan struct{}
}

// startFollow runs 'pollen follow TICKET -o dir' with repo in host.
func startFollow(t *testing.T, host *lanHost, repo, ticket, dir string) *liveFollow {
	t.Helper()
	f := &liveFollow{t: t, host: host, repo: repo, dir: dir,
		args: append([]string{"--repo", repo, "follow", ticket, "-o", dir}, liveFlags...)}
	f.start()
	t.Cleanup(f.kill)
	return f
}

func (f *liveFollow) start() {
	f.t.Helper()
	f.cmd = f.host.Command(context.Background(), pollenBin(f.t), f.args...)
	f.cmd.Env = append(os.Environ(), "POLLEN_REPO=")
	f.stdout, f.stderr = &syncBuffer{}, &syncBuffer{}
	f.cmd.Stdout, f.cmd.Stderr = f.stdout, f.stderr
	if err := f.cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	f.done = make(chan struct{})
	go func() {
		f.cmd.Wait()
		close(f.done)
	}()
}

// kill ends the follow at once, as a crash or a power cut would.
func (f *liveFollow) kill() {
	if f.cmd != nil {
		f.cmd.Process.Kill()
		<-f.done
		f.cmd = nil
	}
}

var versionLine = regexp.MustCompile(`(?m)^version (\d+)  `)

// versions lists the versions the follow printed, in order.
func (f *liveFollow) versions() []uint64 {
	var vs []uint64
	for _, m := range versionLine.FindAllStringSubmatch(f.stdout.String(), -1) {
		n, _ := strconv.ParseUint(m[1], 10, 64)
		vs = append(vs, n)
	}
	return vs
}

// waitVersion waits until the follow has printed version want or a
// newer one, and returns the last it printed. A follow prints a version
// within half a second of writing the mirror.
func (f *liveFollow) waitVersion(want uint64) uint64 {
	f.t.Helper()
	var last uint64
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if vs := f.versions(); len(vs) > 0 {
			last = vs[len(vs)-1]
		}
		if last >= want || time.Now().After(deadline) {
			return last
		}
	}
}

// lsFollow returns the version and the count of conflicts 'pollen ls'
// shows for the follow of the node whose repo is repo, run in host, and
// all it printed.
func lsFollow(t *testing.T, host *lanHost, repo string) (version uint64, conflicts int, out string) {
	t.Helper()
	cmd := host.Command(context.Background(), pollenBin(t), "--repo", repo, "ls")
	cmd.Env = append(os.Environ(), "POLLEN_REPO=")
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ls: %v\n%s", err, b)
	}
	for line := range strings.Lines(string(b)) {
		// DIR follow VERSION DATE TIME FOLLOWERS CONFLICTS NAME, where
		// DIR may hold spaces.
		if f := strings.Fields(line); len(f) >= 8 && f[len(f)-7] == "follow" {
			v, err1 := strconv.ParseUint(f[len(f)-6], 10, 64)
			n, err2 := strconv.Atoi(f[len(f)-2])
			if err1 != nil || err2 != nil {
				t.Fatalf("ls: a follow's line %q", line)
			}
			return v, n, string(b)
		}
	}
	t.Fatalf("ls shows no follow:\n%s", b)
	return 0, 0, ""
}

func writeTestFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func durations(mirrors []mirrorWait, took []time.Duration) string {
	var s []string
	for i, m := range mirrors {
		s = append(s, fmt.Sprintf("%s %s", m.name, took[i].Round(10*time.Millisecond)))
	}
	return strings.Join(s, ", ")
}

// TestLiveFolderInNamespaces is issue 15's test: every follower's mirror
// equals the folder within seconds of each change; a 1 MiB change in a
// 1 GiB file moves about 1 MiB to each follower and about one copy out
// of the sharer; a file the user added in a mirror survives; a follower
// killed for three versions catches up.
func TestLiveFolderInNamespaces(t *testing.T) {
	begin := time.Now()
	hosts := newLAN(t, "sharer", "fa", "fb", "fc")
	sharerHost, hostA, hostB, hostC := hosts[0], hosts[1], hosts[2], hosts[3]
	var s sums

	src := filepath.Join(t.TempDir(), "shared")
	must(t, testdata.Tree(src, 15, testdata.TreeOptions{}))
	size, _ := testdata.Size(src)
	sharer := startServerCmd(t, sharerHost.Command(context.Background(), pollenBin(t),
		append([]string{"--repo", t.TempDir(), "share", "--live", src}, liveFlags...)...))
	if !strings.HasPrefix(sharer.ticket, "pollen1") {
		t.Fatalf("share --live printed no ticket; stderr:\n%s", sharer.stderr)
	}
	mirrorDir := func(name string) string { return filepath.Join(t.TempDir(), "mirror "+name) }
	var follows []*liveFollow
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("sharer's stderr:\n%s", sharer.stderr)
			for _, f := range follows {
				t.Logf("follower %s's stdout:\n%s\nstderr:\n%s", f.host.name, f.stdout, f.stderr)
			}
		}
	})

	// b follows first: the sharer pushes each version to its longest
	// subscribed follower first and to the others once that one holds
	// it (live/stagger.go), so b, killed below, is the follower whose
	// going the others would feel.
	start := time.Now()
	fb := startFollow(t, hostB, t.TempDir(), sharer.ticket, mirrorDir("b"))
	follows = append(follows, fb)
	b := mirrorWait{name: "b", dir: fb.dir}
	took := s.waitMirrors(t, "the first version", src, start, time.Minute, b)
	t.Logf("first version (%.1f MiB) in mirror b %s after its start", float64(size)/(1<<20), took[0].Round(10*time.Millisecond))
	start = time.Now()
	fa := startFollow(t, hostA, t.TempDir(), sharer.ticket, mirrorDir("a"))
	follows = append(follows, fa)
	repoC, dirC := t.TempDir(), mirrorDir("c")
	startServerCmd(t, hostC.Command(context.Background(), pollenBin(t),
		append([]string{"--repo", repoC, "daemon", "--api", "127.0.0.1:0"}, liveFlags...)...))
	handed := hostC.Command(context.Background(), pollenBin(t), "--repo", repoC, "follow", sharer.ticket, "-o", dirC)
	handed.Env = append(os.Environ(), "POLLEN_REPO=")
	if out, err := handed.CombinedOutput(); err != nil || !strings.Contains(string(out), "the running daemon follows") {
		t.Fatalf("follow through the daemon: %v\n%s", err, out)
	}
	a, c := mirrorWait{name: "a", dir: fa.dir}, mirrorWait{name: "c", dir: dirC}
	all := []mirrorWait{a, b, c}
	took = s.waitMirrors(t, "the first version", src, start, time.Minute, a, c)
	t.Logf("first version in mirrors a (foreground) and c (daemon), from their start: %s", durations([]mirrorWait{a, c}, took))

	// step makes a change in the folder and waits for the mirrors.
	step := func(what string, change func(), mirrors ...mirrorWait) {
		t.Helper()
		change()
		start := time.Now()
		took := s.waitMirrors(t, what, src, start, changeWithin, mirrors...)
		t.Logf("%s: every mirror equal after %s", what, durations(mirrors, took))
	}
	at := func(rel string) string { return filepath.Join(src, filepath.FromSlash(rel)) }
	step("create a file and a folder", func() {
		writeTestFile(t, at("new/inside/notes.txt"), "a new file in new folders\n")
		writeTestFile(t, at("todo.txt"), "one more file\n")
	}, all...)
	step("modify a file", func() {
		must(t, os.WriteFile(at("names/name with spaces.txt"), []byte("changed\n"), 0o644))
	}, all...)
	step("rename a file", func() { must(t, os.Rename(at("same again.bin"), at("same renamed.bin"))) }, all...)
	step("rename a folder", func() { must(t, os.Rename(at("copy two"), at("copy 2"))) }, all...)
	step("delete a file", func() { must(t, os.Remove(at("pattern.bin"))) }, all...)
	step("delete a folder", func() { must(t, os.RemoveAll(at("wide"))) }, all...)

	ownFiles(t, &s, src, fa, fb, hostC, repoC, dirC, step)

	// Follower b is killed, three versions are made, and b, started
	// again with the same command, catches up to the newest.
	fb.kill()
	killed := time.Now()
	before := fa.waitVersion(0)
	step("version 1 of 3 while b is away", func() { writeTestFile(t, at("away/1.txt"), "one\n") }, a, c)
	step("version 2 of 3 while b is away", func() { writeTestFile(t, at("away/1.txt"), "one, changed\n") }, a, c)
	step("version 3 of 3 while b is away", func() { must(t, os.RemoveAll(at("edges"))) }, a, c)
	t.Logf("three versions made %s after b was killed", time.Since(killed).Round(10*time.Millisecond))
	latest := fa.waitVersion(before + 3)
	if latest != before+3 {
		t.Errorf("three changes while b was away: follower a went from version %d to %d", before, latest)
	}
	start = time.Now()
	fb.start()
	took = s.waitMirrors(t, "catching up", src, start, time.Minute, b)
	got := fb.waitVersion(latest)
	t.Logf("b, away for three versions, caught up in %s (from its start); it printed versions %v", took[0].Round(10*time.Millisecond), fb.versions())
	if got != latest {
		t.Errorf("b caught up to version %d, want %d", got, latest)
	}
	for _, v := range fb.versions() {
		if v != before && v != latest {
			t.Errorf("b wrote version %d on its way from %d to %d, want the newest at once", v, before, latest)
		}
	}

	if testing.Short() {
		t.Logf("-short: the 1 GiB file left out; the rest took %s", time.Since(begin).Round(time.Second))
		return
	}
	bigChange(t, &s, src, sharerHost, []*lanHost{hostA, hostB, hostC}, all)
	t.Logf("the whole test took %s", time.Since(begin).Round(time.Second))
}

// ownFiles: a file the user adds in a mirror is theirs: it stays
// through upstream changes, and is a conflict only once upstream has a
// file of the same name, which then is not written over. Mirror a's
// follow says so on stderr; mirror c's daemon in 'pollen ls'. Mirror b
// has no file of its own: it shows when each version is in.
func ownFiles(t *testing.T, s *sums, src string, fa, fb *liveFollow, hostC *lanHost, repoC, dirC string,
	step func(string, func(), ...mirrorWait)) {
	mine := "mine.txt"
	a := mirrorWait{name: "a", dir: fa.dir, own: []string{mine}}
	b := mirrorWait{name: "b", dir: fb.dir}
	c := mirrorWait{name: "c", dir: dirC, own: []string{mine}}
	writeTestFile(t, filepath.Join(a.dir, mine), "local a\n")
	writeTestFile(t, filepath.Join(c.dir, mine), "local c\n")
	// after checks, once b holds the next version, that a and c hold it
	// too and still have the user's file, and that c's ls shows
	// conflicts. A follow prints a version up to half a second after
	// writing it: v is the one b printed last, once it had time to.
	time.Sleep(time.Second)
	v := fb.waitVersion(0)
	after := func(what string, conflicts int) {
		t.Helper()
		v++
		if got := fb.waitVersion(v); got != v {
			t.Errorf("%s: follow b printed version %d, want %d", what, got, v)
		}
		if got := fa.waitVersion(v); got != v {
			t.Errorf("%s: follow a printed version %d, b %d", what, got, v)
		}
		var cv uint64
		var n int
		var ls string
		for deadline := time.Now().Add(10 * time.Second); (cv != v || n != conflicts) && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			cv, n, ls = lsFollow(t, hostC, repoC) // noted just after the mirror is written
		}
		if cv != v || n != conflicts {
			t.Errorf("%s: ls in c shows version %d with %d conflicts, want version %d with %d:\n%s", what, cv, n, v, conflicts, ls)
		}
		s.waitMirrors(t, what, src, time.Now(), 5*time.Second, a, c)
		for _, m := range []mirrorWait{a, c} {
			want := "local " + m.name + "\n"
			if got, err := os.ReadFile(filepath.Join(m.dir, mine)); err != nil || string(got) != want {
				t.Fatalf("%s: the user's file in mirror %s: %q, %v; want %q", what, m.name, got, err, want)
			}
		}
	}
	at := func(rel string) string { return filepath.Join(src, filepath.FromSlash(rel)) }
	// Mirrors a and c equal the folder but for their own file before and
	// after each of these changes: b, with none, times them, and after
	// checks a and c by the version they hold.
	step("a change beside a local file", func() { writeTestFile(t, at("todo.txt"), "two more files\n") }, b)
	after("a change beside a local file", 0)
	if strings.Contains(fa.stderr.String(), "conflict") {
		t.Errorf("a local file no version has: follow a reported a conflict:\n%s", fa.stderr)
	}
	step("upstream adds the local file's name", func() { writeTestFile(t, at(mine), "upstream\n") }, b)
	after("upstream adds the local file's name", 1)
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(fa.stderr.String(), "conflict "+mine); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("follow a did not report the conflict on %s:\n%s", mine, fa.stderr)
			break
		}
	}
	_, _, ls := lsFollow(t, hostC, repoC)
	for line := range strings.Lines(ls) {
		// NAME SIZE KIND ...: each version kept, named after the mirror.
		if f := strings.Fields(line); len(f) > 3 && f[0] == "mirror" && f[1] == "c" && f[2] == "0" {
			t.Errorf("ls in c shows a version of the folder as empty: %q", line)
		}
	}
	t.Logf("the same name upstream and in mirrors a and c: follow a said %q; ls in c:\n%s",
		strings.TrimSpace(fa.stderr.String()[strings.LastIndex(fa.stderr.String(), "conflict"):]), ls)
	step("upstream deletes it again", func() { must(t, os.Remove(at(mine))) }, b)
	after("upstream deletes it again", 0)
	must(t, os.Remove(filepath.Join(a.dir, mine)))
	must(t, os.Remove(filepath.Join(c.dir, mine)))
}

// bigChange adds a 1 GiB file of random bytes to the live folder, then
// changes one 1 MiB region of it (a chunk of the import profile, in
// place, as a database or a disk image changes): each follower receives
// about 1 MiB, not the file, and the sharer sends about one copy of it
// for the three, counted on their links.
func bigChange(t *testing.T, s *sums, src string, sharer *lanHost, followers []*lanHost, mirrors []mirrorWait) {
	const size, offset = 1 << 30, 300 << 20
	begin := time.Now()
	tmp := filepath.Join(t.TempDir(), "big.bin") // written beside, then moved in whole
	must(t, testdata.WriteFile(tmp, 16, size))
	big := filepath.Join(src, "big.bin")
	t.Logf("1 GiB of random bytes written in %s", time.Since(begin).Round(10*time.Millisecond))

	counters := func() (rx []int64, tx int64) {
		for _, f := range followers {
			r, _ := f.counters(t)
			rx = append(rx, r)
		}
		_, tx = sharer.counters(t)
		return rx, tx
	}
	report := func(what string, rx0, rx1 []int64, tx0, tx1 int64) (got []int64, sent int64) {
		t.Helper()
		var s []string
		for i := range rx0 {
			got = append(got, rx1[i]-rx0[i])
			s = append(s, fmt.Sprintf("%s %d (%.2f MiB)", mirrors[i].name, got[i], float64(got[i])/(1<<20)))
		}
		sent = tx1 - tx0
		t.Logf("%s: followers received %s; the sharer sent %d (%.2f MiB)", what, strings.Join(s, ", "), sent, float64(sent)/(1<<20))
		return got, sent
	}

	rx0, tx0 := counters()
	must(t, os.Rename(tmp, big))
	start := time.Now()
	took := s.waitMirrors(t, "a 1 GiB file added", src, start, 10*time.Minute, mirrors...)
	t.Logf("a 1 GiB file added: every mirror equal after %s", durations(mirrors, took))
	rx1, tx1 := counters()
	if _, sent := report("a 1 GiB file added", rx0, rx1, tx0, tx1); sent > size*3/2 {
		t.Errorf("the sharer sent %.2f GiB for a 1 GiB file to three followers, want about one copy", float64(sent)/(1<<30))
	}

	time.Sleep(2 * time.Second) // let the last answers and acks of the add pass
	rx0, tx0 = counters()
	region := make([]byte, 1<<20)
	rand.Read(region)
	f, err := os.OpenFile(big, os.O_WRONLY, 0)
	must(t, err)
	if _, err := f.WriteAt(region, offset); err != nil {
		f.Close()
		t.Fatal(err)
	}
	must(t, f.Close())
	start = time.Now()
	took = s.waitMirrors(t, "1 MiB of the 1 GiB file changed", src, start, 2*time.Minute, mirrors...)
	t.Logf("1 MiB of the 1 GiB file changed: every mirror equal after %s", durations(mirrors, took))
	time.Sleep(time.Second) // let late answers land in the counts
	rx1, tx1 = counters()
	got, sent := report("1 MiB of the 1 GiB file changed", rx0, rx1, tx0, tx1)
	for i, n := range got {
		if n > 3<<20 {
			t.Errorf("follower %s received %.2f MiB for a 1 MiB change in a 1 GiB file, want under 3 MiB", mirrors[i].name, float64(n)/(1<<20))
		}
	}
	if sent > 5<<19 {
		t.Errorf("the sharer sent %.2f MiB for a 1 MiB change to three followers, want about one copy (under 2.5 MiB)", float64(sent)/(1<<20))
	}
	t.Logf("the 1 GiB part took %s", time.Since(begin).Round(time.Second))
}
