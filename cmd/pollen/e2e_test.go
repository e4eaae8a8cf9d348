package main_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

// The end-to-end tests run the built binary, as a user would.
var (
	binOnce sync.Once
	bin     string
	binErr  error
)

func pollenBin(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pollen-bin-")
		if err != nil {
			binErr = err
			return
		}
		os.Chmod(dir, 0o755) // TestUnreadableFile runs it as another user
		bin = filepath.Join(dir, "pollen")
		out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bin != "" {
		os.RemoveAll(filepath.Dir(bin))
	}
	testdata.RemoveShared()
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// pollen runs the binary with the repo and args, no terminal attached.
func run(t *testing.T, repo string, args ...string) result {
	t.Helper()
	return runCmd(t, pollenCmd(t, repo, args...))
}

// pollenCmd is the command line run runs.
func pollenCmd(t *testing.T, repo string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(pollenBin(t), append([]string{"--repo", repo}, args...)...)
	cmd.Env = append(os.Environ(), "POLLEN_REPO=")
	cmd.Dir = t.TempDir() // a get without -o writes here, not into the source tree
	return cmd
}

// runCmd runs a pollen command line and returns what it printed and its
// exit code; only a command that could not run ends the test.
func runCmd(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	r := result{stdout: so.String(), stderr: se.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r result) ok(t *testing.T) result {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	return r
}

// fails asserts a non-zero exit with one clear line on stderr containing want.
func (r result) fails(t *testing.T, want string) {
	t.Helper()
	if r.code == 0 {
		t.Fatalf("succeeded, want failure with %q\nstdout: %s", want, r.stdout)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "pollen: ") {
		t.Errorf("stderr is not one 'pollen: ...' line:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q does not mention %q", r.stderr, want)
	}
}

// mixed is the shared mixed test folder (read-only).
var mixed = testdata.Mixed

const mixedCID = "bafybeiecatufxsbl7lrfhjc3wrk7ezpdwmo76vn4kqbutwz5vypbngoz7a" // Kubo's CID, see chunker tests

func TestAddGetRoundTrip(t *testing.T) {
	repo := t.TempDir()
	src := mixed(t)
	r := run(t, repo, "add", src).ok(t)
	if r.stdout != "added "+mixedCID+" mixed\n" {
		t.Errorf("add printed %q", r.stdout)
	}
	if !strings.Contains(r.stderr, "skipped 1 hidden entry") || !strings.Contains(r.stderr, "--hidden") {
		t.Errorf("add did not tell about the skipped hidden file:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "(100%") {
		t.Errorf("add without a terminal printed no final progress line:\n%s", r.stderr)
	}
	if q := run(t, repo, "add", "-q", src).ok(t); q.stdout != mixedCID+"\n" || q.stderr != "" {
		t.Errorf("add -q printed %q / %q, want the CID alone", q.stdout, q.stderr)
	}

	out := t.TempDir()
	g := run(t, repo, "get", mixedCID, "-o", out).ok(t)
	if !strings.HasPrefix(g.stdout, "saved "+filepath.Join(out, "mixed")) {
		t.Errorf("get printed %q", g.stdout)
	}
	assertSameTree(t, src, filepath.Join(out, "mixed"), ".hidden-file")

	ls := run(t, repo, "ls").ok(t)
	if !strings.Contains(ls.stdout, "mixed") || !strings.Contains(ls.stdout, mixedCID) || !strings.Contains(ls.stdout, "8.6 MiB") {
		t.Errorf("ls shows:\n%s", ls.stdout)
	}
	st := run(t, repo, "status").ok(t)
	for _, want := range []string{"repo:    " + repo, "blocks:  5440", "shared:  1"} {
		if !strings.Contains(st.stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, st.stdout)
		}
	}
	cat := run(t, repo, "cat", "bafkreiedreox72c4gpsszc2olakmsl5wuo4um4uzeactrjv2xkuliuwype").ok(t)
	want, _ := os.ReadFile(filepath.Join(src, "one-byte.bin"))
	if cat.stdout != string(want) {
		t.Errorf("cat gave %q, want %q", cat.stdout, want)
	}
	run(t, repo, "cat", mixedCID).fails(t, "is a folder")
}

// assertSameTree compares names, types, bytes and link targets, skipping
// the names in skip.
func assertSameTree(t *testing.T, want, got string, skip ...string) {
	t.Helper()
	seen := map[string]bool{}
	filepath.Walk(want, func(p string, wi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(want, p)
		for _, s := range skip {
			if rel == s {
				return nil
			}
		}
		seen[rel] = true
		gi, err := os.Lstat(filepath.Join(got, rel))
		if err != nil {
			t.Errorf("%s: missing from the copy", rel)
			return nil
		}
		if gi.Mode().Type() != wi.Mode().Type() {
			t.Errorf("%s: type %v, want %v", rel, gi.Mode().Type(), wi.Mode().Type())
		}
		if wi.Mode().IsRegular() {
			a, _ := os.ReadFile(p)
			b, _ := os.ReadFile(filepath.Join(got, rel))
			if !bytes.Equal(a, b) {
				t.Errorf("%s: content differs", rel)
			}
		}
		if wi.Mode()&os.ModeSymlink != 0 {
			a, _ := os.Readlink(p)
			b, _ := os.Readlink(filepath.Join(got, rel))
			if a != b {
				t.Errorf("%s: links to %q, want %q", rel, b, a)
			}
		}
		return nil
	})
	filepath.Walk(got, func(p string, _ os.FileInfo, err error) error {
		rel, _ := filepath.Rel(got, p)
		if err == nil && !seen[rel] {
			t.Errorf("%s: in the copy but not in the source", rel)
		}
		return nil
	})
}

func TestGCAndVerify(t *testing.T) {
	repo := t.TempDir()
	src := filepath.Join(t.TempDir(), "big.bin")
	testdata.WriteFile(src, 5, 20*testdata.MiB)
	keep := filepath.Join(t.TempDir(), "keep.txt")
	os.WriteFile(keep, []byte("keep me"), 0o644)
	big := strings.TrimSpace(run(t, repo, "add", "-q", src).ok(t).stdout)
	kept := strings.TrimSpace(run(t, repo, "add", "-q", keep).ok(t).stdout)
	if v := run(t, repo, "verify").ok(t); !strings.Contains(v.stdout, "checked 22 blocks: 0 corrupt") {
		t.Errorf("verify printed %q", v.stdout)
	}
	run(t, repo, "rm", big).ok(t)
	run(t, repo, "rm", big).fails(t, "not shared or kept here")
	gc := run(t, repo, "gc").ok(t)
	if !strings.Contains(gc.stdout, "removed 21 blocks (20 MiB), kept 1") {
		t.Errorf("gc printed %q", gc.stdout)
	}
	if du := diskUsage(t, repo); du > 8<<20 {
		t.Errorf("repo still takes %d bytes after gc", du)
	}
	run(t, repo, "get", big, "-o", t.TempDir(), "--offline", "--no-mdns", "--timeout", "1s").fails(t, "no peer has it")
	if c := run(t, repo, "cat", kept).ok(t); c.stdout != "keep me" {
		t.Errorf("cat of the kept file = %q", c.stdout)
	}
}

// diskUsage is what the files under dir take on disk, leaving out the
// space a store keeps in reserve for when the disk is full (blockstore's
// spare file).
func diskUsage(t *testing.T, dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && fi.Name() != "spare" {
			n += allocated(fi)
		}
		return nil
	})
	return n
}

func TestBadInput(t *testing.T) {
	repo := t.TempDir()
	run(t, repo, "add", "/no/such/path").fails(t, "add /no/such/path: no such file or directory")
	r := run(t, repo, "get", "not-a-cid")
	r.fails(t, `"not-a-cid" is neither a ticket nor a valid CID`)
	if r.code != 2 {
		t.Errorf("invalid CID exit code %d, want 2", r.code)
	}
	start := time.Now()
	run(t, repo, "get", "bafkreiedreox72c4gpsszc2olakmsl5wuo4um4uzeactrjv2xkuliuwype", "--offline", "--no-mdns", "--timeout", "2s").
		fails(t, "no peer has it: nothing arrived for 2s (none of it here); 0 connected peers; DHT off")
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("get of content nobody has took %s", d)
	}
	run(t, repo, "frobnicate").fails(t, `unknown command "frobnicate"`)
	run(t, repo, "add").fails(t, "no PATH given")
	run(t, repo, "get", "--bogus").fails(t, "flag provided but not defined: -bogus")
}

func TestGetKeepsExistingFiles(t *testing.T) {
	repo := t.TempDir()
	src := filepath.Join(t.TempDir(), "note.txt")
	os.WriteFile(src, []byte("from the store"), 0o644)
	c := strings.TrimSpace(run(t, repo, "add", "-q", src).ok(t).stdout)
	out := t.TempDir()
	mine := filepath.Join(out, "note.txt")
	os.WriteFile(mine, []byte("mine"), 0o644)
	run(t, repo, "get", c, "-o", out).fails(t, "already exists with other content (use --force to replace it)")
	if b, _ := os.ReadFile(mine); string(b) != "mine" {
		t.Fatalf("existing file overwritten: %q", b)
	}
	run(t, repo, "get", c, "-o", out, "--force").ok(t)
	if b, _ := os.ReadFile(mine); string(b) != "from the store" {
		t.Errorf("--force left %q", b)
	}
}

func TestRepoInUse(t *testing.T) {
	repo := t.TempDir()
	node, err := pollen.Open(repo, pollen.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, repo, "status")
	r.fails(t, fmt.Sprintf("repo in use by PID %d", os.Getpid()))
	node.Close()
	run(t, repo, "status").ok(t)
}

func TestHelp(t *testing.T) {
	r := run(t, t.TempDir(), "help").ok(t)
	for _, c := range []string{"add", "get", "cat", "ls", "rm", "gc", "verify", "status"} {
		if !strings.Contains(r.stdout, "\n  "+c+" ") {
			t.Errorf("help does not list %s", c)
		}
	}
	if h := run(t, t.TempDir(), "get", "-h").ok(t); !strings.Contains(h.stdout, "Usage: pollen get") {
		t.Errorf("get -h printed %q", h.stdout)
	}
}
