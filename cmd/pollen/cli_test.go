package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// TestVersionAndSuggestions: version, --version; a mistyped command is
// told the one meant; help writes flags as --name.
func TestVersionAndSuggestions(t *testing.T) {
	repo := t.TempDir()
	v := run(t, repo, "version").ok(t)
	if !strings.HasPrefix(v.stdout, "pollen ") || !strings.Contains(v.stdout, "go1.") {
		t.Errorf("version: %q", v.stdout)
	}
	if vv := run(t, repo, "--version").ok(t); vv.stdout != v.stdout {
		t.Errorf("--version: %q, version: %q", vv.stdout, v.stdout)
	}
	run(t, repo, "gte", "x").fails(t, `did you mean "get"?`)
	run(t, repo, "sahre", "x").fails(t, `did you mean "share"?`)
	if r := run(t, repo, "frobnicate"); strings.Contains(r.stderr, "did you mean") || r.code != 2 {
		t.Errorf("a word far from any command: exit %d, %q", r.code, r.stderr)
	}
	if h := run(t, repo, "help", "get").ok(t); !strings.Contains(h.stdout, "  --force\n") || strings.Contains(h.stdout, "\n  -force") {
		t.Errorf("help get lists its flags as:\n%s", h.stdout)
	}
}

// TestCompletion: bash's completes commands and a command's flags; zsh
// loads it through bashcompinit; fish's names every command.
func TestCompletion(t *testing.T) {
	script := filepath.Join(t.TempDir(), "pollen.bash")
	os.WriteFile(script, []byte(run(t, t.TempDir(), "completion", "bash").ok(t).stdout), 0o644)
	out, err := exec.Command("bash", "-c", `source "$0"
COMP_WORDS=(pollen ge); COMP_CWORD=1; _pollen; echo "${COMPREPLY[*]}"
COMP_WORDS=(pollen --repo /tmp get --fo); COMP_CWORD=4; _pollen; echo "${COMPREPLY[*]}"`, script).CombinedOutput()
	if err != nil || string(out) != "get\n--force\n" {
		t.Errorf("bash completion: %v %q", err, out)
	}
	if z := run(t, t.TempDir(), "completion", "zsh").ok(t); !strings.HasPrefix(z.stdout, "autoload -U +X bashcompinit") {
		t.Errorf("zsh: %.80q", z.stdout)
	}
	fish := run(t, t.TempDir(), "completion", "fish").ok(t).stdout
	for _, want := range []string{"-a get -d", "'__fish_seen_subcommand_from get' -l force"} {
		if !strings.Contains(fish, want) {
			t.Errorf("fish completion lacks %q", want)
		}
	}
	run(t, t.TempDir(), "completion", "tcsh").fails(t, "not bash, zsh or fish")
}

// TestJSONOutput: --json gives what scripts parse, for add, ls, status,
// id and a get.
func TestJSONOutput(t *testing.T) {
	repo := t.TempDir()
	src := mixed(t) + "/one-byte.bin"
	var added struct{ CID, Name string }
	if err := json.Unmarshal([]byte(run(t, repo, "add", "--json", src).ok(t).stdout), &added); err != nil || added.Name != "one-byte.bin" || added.CID == "" {
		t.Fatalf("add --json: %+v %v", added, err)
	}
	var shares []struct {
		CID, Kind string
		Size      int64
	}
	if err := json.Unmarshal([]byte(run(t, repo, "ls", "--json").ok(t).stdout), &shares); err != nil || len(shares) != 1 || shares[0].CID != added.CID {
		t.Errorf("ls --json: %+v %v", shares, err)
	}
	var st struct{ Blocks, Shared int }
	if err := json.Unmarshal([]byte(run(t, repo, "status", "--json").ok(t).stdout), &st); err != nil || st.Shared != 1 || st.Blocks != 1 {
		t.Errorf("status --json: %+v %v", st, err)
	}
	var id struct {
		ID    string
		Addrs []string
	}
	if err := json.Unmarshal([]byte(run(t, repo, append([]string{"id", "--json"}, isolated...)...).ok(t).stdout), &id); err != nil || !strings.HasPrefix(id.ID, "12D3") || len(id.Addrs) == 0 {
		t.Errorf("id --json: %+v %v", id, err)
	}
	s := startServer(t, repo, "seed")
	var saved struct {
		CID, Path string
		Size      int64
	}
	out := t.TempDir()
	g := run(t, t.TempDir(), append([]string{"get", "--json", s.ticket, "-o", out}, isolated...)...).ok(t)
	if err := json.Unmarshal([]byte(g.stdout), &saved); err != nil || saved.Path != filepath.Join(out, "one-byte.bin") || saved.Size != 1 {
		t.Errorf("get --json: %q: %+v %v", g.stdout, saved, err)
	}
}

// TestSystemdUnit: contrib/pollen.service runs a command and flags
// pollen knows (the unit is run by people who never read this code).
func TestSystemdUnit(t *testing.T) {
	b, err := os.ReadFile("../../contrib/pollen.service")
	if err != nil {
		t.Fatal(err)
	}
	var exec string
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "ExecStart="); ok {
			exec = v
		}
	}
	f := strings.Fields(exec)
	if len(f) < 2 || filepath.Base(f[0]) != "pollen" || f[1] != "daemon" {
		t.Fatalf("ExecStart=%s", exec)
	}
	run(t, t.TempDir(), append([]string{"help"}, f[1:]...)...).ok(t)
}

// TestExitCodes: each kind of failure has its exit code (the README
// lists them), directly and through a running daemon.
func TestExitCodes(t *testing.T) {
	repo := t.TempDir()
	src := mixed(t) + "/one-byte.bin"
	root := strings.TrimSpace(run(t, repo, "add", "-q", src).ok(t).stdout)
	out := t.TempDir()
	run(t, repo, "get", root, "-o", out).ok(t)
	sum, _ := mh.Sum([]byte("nobody has this"), mh.SHA2_256, -1)
	missing := cid.NewCidV1(cid.Raw, sum).String()
	bad := filepath.Join(t.TempDir(), "bad.car")
	car := filepath.Join(t.TempDir(), "f.car")
	run(t, repo, "export", root, "--car", car).ok(t)
	data, _ := os.ReadFile(car)
	data[len(data)-1] ^= 0xff
	os.WriteFile(bad, data, 0o644)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"get", "not-a-cid"}, 2},
		{[]string{"cat", missing}, 3},
		{[]string{"rm", missing}, 3},
		{append([]string{"get", missing, "--timeout", "1s"}, isolated...), 4},
		{[]string{"import", bad}, 6},
	} {
		if r := run(t, repo, tc.args...); r.code != tc.code {
			t.Errorf("pollen %s: exit %d, want %d\n%s", strings.Join(tc.args, " "), r.code, tc.code, r.stderr)
		}
	}
	// A folder holding different bytes under the name: exists.
	os.WriteFile(filepath.Join(out, "other.bin"), []byte("xy"), 0o644)
	if err := os.Rename(filepath.Join(out, "other.bin"), filepath.Join(out, "one-byte.bin")); err != nil {
		t.Fatal(err)
	}
	if r := run(t, repo, "get", root, "-o", out); r.code != 5 {
		t.Errorf("get over different files: exit %d, want 5\n%s", r.code, r.stderr)
	}

	// Through a daemon, the kinds survive the API.
	startDaemon(t, repo)
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"rm", missing}, 3},
		{[]string{"cat", missing}, 3},
		{[]string{"import", bad}, 6},
		{[]string{"seeding", missing, "--pause"}, 3},
	} {
		if r := run(t, repo, tc.args...); r.code != tc.code {
			t.Errorf("pollen %s with a daemon: exit %d, want %d\n%s", strings.Join(tc.args, " "), r.code, tc.code, r.stderr)
		}
	}
}
