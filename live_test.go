package pollen_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/pollen-p2p/pollen"
)

// liveNode opens a node on loopback with a short quiet period.
func liveNode(t *testing.T, dir string) *pollen.Node {
	t.Helper()
	n, err := pollen.Open(dir, pollen.Config{
		Listen:    []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")},
		Offline:   true,
		NoMDNS:    true,
		LiveQuiet: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.StartNetwork(); err != nil {
		n.Close()
		t.Fatal(err)
	}
	return n
}

// shareLive shares src live from a new node, closed when the test ends,
// and returns its first version and ticket.
func shareLive(t *testing.T, ctx context.Context, src string) (*pollen.Node, pollen.LiveInfo, pollen.Ticket) {
	t.Helper()
	sharer := liveNode(t, t.TempDir())
	t.Cleanup(func() { sharer.Close() })
	li, err := sharer.ShareLive(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	tk, err := sharer.LiveTicket(li.Name)
	if err != nil {
		t.Fatal(err)
	}
	return sharer, li, tk
}

// follow follows tk from a new node, closed when the test ends, into a
// new mirror folder, and returns both.
func follow(t *testing.T, ctx context.Context, tk pollen.Ticket) (*pollen.Node, string) {
	t.Helper()
	f := liveNode(t, t.TempDir())
	t.Cleanup(func() { f.Close() })
	mirror := filepath.Join(t.TempDir(), "m")
	if _, err := f.Follow(ctx, tk, mirror); err != nil {
		t.Fatal(err)
	}
	return f, mirror
}

// waitVersion waits until n's only live folder has noted version seq
// or a later one, and returns it.
func waitVersion(t *testing.T, n *pollen.Node, seq uint64, within time.Duration) pollen.LiveInfo {
	t.Helper()
	for deadline := time.Now().Add(within); ; time.Sleep(20 * time.Millisecond) {
		lvs, err := n.Lives()
		if err == nil && len(lvs) == 1 && lvs[0].Seq >= seq {
			return lvs[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no version %d after %s: %+v %v", seq, within, lvs, err)
		}
	}
}

// tree reads the files under dir (not the hidden ones) as path → bytes.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if strings.HasPrefix(d.Name(), ".") && p != dir {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if rel != "." {
				out[rel+"/"] = ""
			}
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			to, _ := os.Readlink(p)
			out[rel] = "-> " + to
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[rel] = string(b)
		return nil
	})
	return out
}

func equalTrees(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// waitMirrors waits until every mirror equals src (but for the paths
// in extra[mirror], the user's), and returns how long it took.
func waitMirrors(t *testing.T, src string, mirrors []string, within time.Duration, except ...string) time.Duration {
	t.Helper()
	start := time.Now()
	want := tree(t, src)
	for {
		ok := true
		for _, m := range mirrors {
			got := tree(t, m)
			for _, e := range except {
				delete(got, e)
			}
			if !equalTrees(got, want) {
				ok = false
				break
			}
		}
		if ok {
			return time.Since(start)
		}
		if time.Since(start) > within {
			for _, m := range mirrors {
				got := tree(t, m)
				var names []string
				for k := range got {
					names = append(names, k)
				}
				t.Logf("%s: %v", m, names)
			}
			t.Fatalf("mirrors differ from the folder after %s", within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func writeFile(t *testing.T, p string, b []byte) {
	t.Helper()
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func received(n *pollen.Node) int64 {
	var sum int64
	for _, s := range n.Traffic() {
		sum += s.Received
	}
	return sum
}

func sent(n *pollen.Node) int64 {
	var sum int64
	for _, s := range n.Traffic() {
		sum += s.Sent
	}
	return sum
}

// One sharer, three followers on loopback: every change of the folder
// (create, modify, rename, delete, folders too) reaches every mirror
// within seconds; a 1 MiB change in a big file moves about 1 MiB to
// each follower, and about 1 MiB out of the sharer; a file added in a
// mirror survives.
func TestLiveFollow(t *testing.T) {
	if testing.Short() {
		t.Skip("four nodes and a 64 MiB file through seven versions: the race run (-short) has TestLiveCatchUp")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	big := int64(64 << 20)
	src := filepath.Join(t.TempDir(), "shared")
	writeFile(t, filepath.Join(src, "a.txt"), []byte("alpha"))
	writeFile(t, filepath.Join(src, "docs/b.txt"), []byte("bravo"))
	data := make([]byte, big)
	rand.Read(data)
	writeFile(t, filepath.Join(src, "big.bin"), data)

	sharer, li, ticket := shareLive(t, ctx, src)
	if li.Seq != 1 {
		t.Fatalf("first version %d", li.Seq)
	}
	tk, err := pollen.ParseTicket(ticket.String())
	if err != nil || tk.Live != li.Name {
		t.Fatalf("ticket %v: %v", tk, err)
	}
	var followers []*pollen.Node
	var mirrors []string
	for i := range 3 {
		f := liveNode(t, t.TempDir())
		defer f.Close()
		m := filepath.Join(t.TempDir(), "mirror", string(rune('a'+i)))
		if _, err := f.Follow(ctx, tk, m); err != nil {
			t.Fatal(err)
		}
		followers, mirrors = append(followers, f), append(mirrors, m)
	}
	took := waitMirrors(t, src, mirrors, time.Minute)
	t.Logf("first version in every mirror after %s", took)

	// The user adds a file in a mirror: it is theirs.
	writeFile(t, filepath.Join(mirrors[0], "mine.txt"), []byte("local"))

	step := func(what string, change func()) {
		t.Helper()
		defer func() {
			if t.Failed() {
				for _, n := range append([]*pollen.Node{sharer}, followers...) {
					lvs, _ := n.Lives()
					for _, l := range lvs {
						t.Logf("seq %d root %s err %q conflicts %v", l.Seq, l.Root, l.Err, l.Conflicts)
					}
				}
			}
		}()
		change()
		took := waitMirrors(t, src, mirrors, 20*time.Second, "mine.txt")
		t.Logf("%s: every mirror equal after %s", what, took)
		if got := tree(t, mirrors[0])["mine.txt"]; got != "local" {
			t.Fatalf("%s: the local file is %q", what, got)
		}
	}
	step("create", func() { writeFile(t, filepath.Join(src, "new/c.txt"), []byte("charlie")) })
	step("modify", func() { writeFile(t, filepath.Join(src, "a.txt"), []byte("alpha two")) })
	step("rename", func() {
		if err := os.Rename(filepath.Join(src, "docs"), filepath.Join(src, "papers")); err != nil {
			t.Fatal(err)
		}
	})
	step("delete", func() {
		if err := os.RemoveAll(filepath.Join(src, "new")); err != nil {
			t.Fatal(err)
		}
	})

	// A 1 MiB region of the big file changes: each follower receives
	// about 1 MiB (the leaf and the nodes above it), not the file.
	var before []int64
	for _, f := range followers {
		before = append(before, received(f))
	}
	sentBefore := sent(sharer)
	step("1 MiB of the big file", func() {
		rand.Read(data[5<<20 : 6<<20])
		writeFile(t, filepath.Join(src, "big.bin"), data)
	})
	time.Sleep(500 * time.Millisecond) // let late answers land in the counts
	for i, f := range followers {
		got := received(f) - before[i]
		t.Logf("follower %d received %d bytes for the change", i, got)
		if got > 3<<20/2 || got < 1<<20 {
			t.Errorf("follower %d received %d bytes for a 1 MiB change", i, got)
		}
	}
	up := sent(sharer) - sentBefore
	t.Logf("the sharer sent %d bytes (%.2f copies of 1 MiB) for the change", up, float64(up)/(1<<20))
	// One follower fetches it from the sharer, the others from it
	// (live/stagger.go); it was three copies when all were pushed at once.
	if up > 3<<20/2 {
		t.Errorf("the sharer sent %.2f copies of a 1 MiB change to three followers, want about one", float64(up)/(1<<20))
	}

	// A follow notes a version just after it writes the mirror.
	if l := waitVersion(t, followers[0], 6, 10*time.Second); len(l.Versions) != pollen.KeepVersions {
		t.Fatalf("the follower keeps versions %v, want %d", l.Versions, pollen.KeepVersions)
	}
	if !bytes.Equal([]byte(tree(t, mirrors[1])["big.bin"]), data) {
		t.Fatal("big file differs")
	}
	// Files the versions renamed and deleted are not reported missing.
	if miss, err := followers[0].MissingFiles(); err != nil || len(miss) != 0 {
		t.Errorf("a follower reports missing files %q %v", miss, err)
	}
	// The follower keeps one copy: the store points into the mirror's
	// files, as it does into a get's.
	for i, f := range followers {
		st, err := f.Stat(ctx)
		if err != nil {
			t.Fatal(err)
		}
		own := st.Bytes - st.Referenced
		t.Logf("follower %d stores %d bytes of its own beside the mirror (%d in the mirror's files)", i, own, st.Referenced)
		if own > 2<<20 {
			t.Errorf("follower %d stores %d bytes beside a mirror of %d: a second copy", i, own, big)
		}
	}
}

// A follower that was off while three versions were made catches up to
// the newest when it starts again (the daemon's ResumeLives).
func TestLiveCatchUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	src := filepath.Join(t.TempDir(), "shared")
	writeFile(t, filepath.Join(src, "a.txt"), []byte("v1"))
	sharer, _, tk := shareLive(t, ctx, src)
	repo, mirror := t.TempDir(), filepath.Join(t.TempDir(), "m")
	f := liveNode(t, repo)
	if _, err := f.Follow(ctx, tk, mirror); err != nil {
		t.Fatal(err)
	}
	waitMirrors(t, src, []string{mirror}, 30*time.Second)
	f.Close()

	for i := 2; i <= 4; i++ {
		writeFile(t, filepath.Join(src, "a.txt"), []byte{'v', byte('0' + i)})
		writeFile(t, filepath.Join(src, "n", string(rune('0'+i))), []byte("x"))
		waitVersion(t, sharer, uint64(i), 20*time.Second)
	}
	f = liveNode(t, repo)
	defer f.Close()
	if err := f.ResumeLives(ctx); err != nil {
		t.Fatal(err)
	}
	took := waitMirrors(t, src, []string{mirror}, 30*time.Second)
	// The version is noted just after the mirror is written.
	if seq := waitVersion(t, f, 4, 10*time.Second).Seq; seq != 4 {
		t.Fatalf("caught up to version %d", seq)
	}
	t.Logf("caught up three versions in %s", took)
}

// TestLiveKeepsTheUsersOwnRecords: a version the user also shares
// themselves stays shared when the live folder moves past it; the
// folder's own old versions go.
func TestLiveKeepsTheUsersOwnRecords(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	src := filepath.Join(t.TempDir(), "shared")
	writeFile(t, filepath.Join(src, "a.txt"), []byte("v1"))
	sharer := liveNode(t, t.TempDir())
	defer sharer.Close()
	li, err := sharer.ShareLive(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	first := li.Root
	mine, err := sharer.Share(ctx, src, pollen.AddOptions{}) // the same folder, shared by hand
	if err != nil || mine.Root.String() != first {
		t.Fatalf("the same folder shared: %v %v, want %s", mine.Root, err, first)
	}
	for i := 2; i <= 2+pollen.KeepVersions; i++ {
		writeFile(t, filepath.Join(src, "a.txt"), []byte{'v', byte('0' + i)})
		waitVersion(t, sharer, uint64(i), 20*time.Second)
	}
	var kept, versions int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		recs, _ := sharer.List() // the last version is published before the oldest goes
		kept, versions = 0, 0
		for _, r := range recs {
			if r.Root.String() == first {
				kept++
			} else if r.Live != "" {
				versions++
			}
		}
		if versions <= pollen.KeepVersions || time.Now().After(deadline) {
			break
		}
	}
	if kept != 1 || versions != pollen.KeepVersions {
		t.Errorf("records: %d of the first version (want the user's 1), %d of the folder's (want %d)", kept, versions, pollen.KeepVersions)
	}
}

// TestStopLiveDropsItsVersions: a live folder stopped leaves its files
// as they are, is no longer listed, its key goes, and its versions'
// records go (GC may free them) but for the user's own share of the
// same root.
func TestStopLiveDropsItsVersions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	src := filepath.Join(t.TempDir(), "shared")
	writeFile(t, filepath.Join(src, "a.txt"), []byte("v1"))
	writeFile(t, filepath.Join(src, "b.txt"), []byte("mine"))
	n := liveNode(t, t.TempDir())
	defer n.Close()
	li, err := n.ShareLive(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(src, "a.txt"), []byte("v2"))
	waitVersion(t, n, 2, 20*time.Second)
	own, err := n.Share(ctx, filepath.Join(src, "b.txt"), pollen.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := filepath.Glob(filepath.Join(n.Dir(), "live", "*.key"))
	if len(keys) != 1 {
		t.Fatalf("the live share's key files: %v", keys)
	}
	if err := n.StopLive(li.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(keys[0]); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the stopped share's key stays: %v", err)
	}
	if lvs, _ := n.Lives(); len(lvs) != 0 {
		t.Errorf("still listed after stop: %+v", lvs)
	}
	recs, _ := n.List()
	for _, r := range recs {
		if r.Live != "" {
			t.Errorf("a version's record outlived the stop: %s %s", r.Root, r.Name)
		}
	}
	if len(recs) != 1 || recs[0].Root != own.Root {
		t.Errorf("records after stop: %+v, want the user's own share alone", recs)
	}
	if got := tree(t, src); got["a.txt"] != "v2" || got["b.txt"] != "mine" {
		t.Errorf("the folder after stop: %v", got)
	}
	if err := n.StopLive(li.Name); !errors.Is(err, pollen.ErrNotFound) {
		t.Errorf("stopped twice: %v, want not found", err)
	}
}
