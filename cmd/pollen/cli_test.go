package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
