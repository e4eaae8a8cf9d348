package main_test

import (
	"regexp"
	"strings"
	"testing"
)

// TestSeedingCLI: `seed --seed-ratio 1.2` serves one getter all of a
// share, stops partway through the next and says so; `ls` and `seeding`
// show what was uploaded, to how many peers, and why it stopped;
// `seeding CID --resume --ratio 0` serves it again.
func TestSeedingCLI(t *testing.T) {
	repo := t.TempDir()
	src := mixed(t)
	run(t, repo, "add", src).ok(t)
	s := startServer(t, repo, append([]string{"seed", "--seed-ratio", "1.2"}, isolated...)...)
	get := func() result {
		return run(t, t.TempDir(), append([]string{"get", s.ticket, "-o", t.TempDir(), "--timeout", "4s"}, isolated...)...)
	}
	get().ok(t)
	if r := get(); r.code == 0 || !strings.Contains(r.stderr, "no peer has it") {
		t.Errorf("a get after the stop: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(s.stderr.String(), "stopped seeding mixed: ratio 1.2 reached") {
		t.Errorf("seed did not say it stopped:\n%s", s.stderr)
	}
	s.stop()

	ls := run(t, repo, "ls").ok(t)
	if !strings.Contains(ls.stdout, "stopped: ratio 1.2 reached") || !strings.Contains(ls.stdout, "(x1.2") {
		t.Errorf("ls:\n%s", ls.stdout)
	}
	if !regexp.MustCompile(`\(x1\.2\d\)\s+2\s`).MatchString(ls.stdout) {
		t.Errorf("ls does not count 2 peers:\n%s", ls.stdout)
	}
	sd := run(t, repo, "seeding", mixedCID, "--resume", "--ratio", "0").ok(t)
	if !strings.Contains(sd.stdout, "never") || !strings.Contains(sd.stdout, "seeding") {
		t.Errorf("seeding --resume:\n%s", sd.stdout)
	}
	s = startServer(t, repo, append([]string{"seed", "--seed-ratio", "1.2"}, isolated...)...)
	get().ok(t)
	s.stop()
	run(t, repo, "seeding", mixedCID, "--pause", "--resume").fails(t, "not both")
	run(t, repo, "seeding", mixedCID, "--ratio", "lots").fails(t, "--ratio")
}
