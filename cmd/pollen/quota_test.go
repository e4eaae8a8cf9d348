package main_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pollen-p2p/pollen/internal/testdata"
)

// Under --max-storage, seeding what cannot fit beside pinned content
// fails with one clear line before its data moves; ls says what is
// pinned, what is evictable and what the store holds against the quota;
// and seeding past the quota evicts the evictable root used longest ago.
func TestQuotaSeedAndLs(t *testing.T) {
	src := t.TempDir()
	var paths []string
	for i, mib := range []int64{3, 3, 3, 9} {
		p := filepath.Join(src, []string{"one", "two", "three", "big"}[i])
		if err := testdata.WriteFile(p, uint64(40+i), mib*testdata.MiB); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	a := startServer(t, t.TempDir(), append([]string{"share"}, paths...)...)
	if len(a.tickets) != 4 {
		t.Fatalf("share printed %d tickets, want 4", len(a.tickets))
	}
	one, two, three, big := a.tickets[0], a.tickets[1], a.tickets[2], a.tickets[3]

	repo := t.TempDir()
	quota := []string{"--max-storage", "8MiB"}
	seed := func(args ...string) {
		t.Helper()
		b := startServer(t, repo, append(append([]string{"seed"}, args...), quota...)...)
		b.stop()
		if !strings.Contains(b.stderr.String(), "kept ") {
			t.Fatalf("seed %v kept nothing:\n%s", args, b.stderr)
		}
	}
	seed(one, "--pin")
	seed(two)

	r := run(t, repo, append([]string{"seed", big}, append(quota, isolated...)...)...)
	r.fails(t, "needs 9.0 MiB, the quota leaves 4.9 MiB (--max-storage 8.0 MiB; 3.1 MiB is shared or pinned)")
	if r.stdout != "" {
		t.Errorf("a refused seed printed %q", r.stdout)
	}

	ls := run(t, repo, append([]string{"ls"}, quota...)...).ok(t)
	kinds := lsKinds(t, ls.stdout)
	if kinds["one"] != "pinned" || kinds["two"] != "evictable" || len(kinds) != 2 {
		t.Errorf("ls kinds %v, want one pinned and two evictable:\n%s", kinds, ls.stdout)
	}
	if want := "stored 6.0 MiB of --max-storage 8.0 MiB (3.0 MiB shared or pinned, 3.0 MiB evictable)"; !strings.Contains(ls.stderr, want) {
		t.Errorf("ls said %q, want %q", ls.stderr, want)
	}

	// Past the quota: two goes, one (pinned) stays.
	seed(three)
	kinds = lsKinds(t, run(t, repo, "ls").ok(t).stdout)
	if kinds["one"] != "pinned" || kinds["three"] != "evictable" || kinds["two"] != "" {
		t.Errorf("after seeding past the quota ls kinds %v, want one pinned, three evictable, two gone", kinds)
	}

	// pin and unpin swap what may go.
	cids := lsCIDs(run(t, repo, "ls").ok(t).stdout)
	run(t, repo, "unpin", cids["one"]).ok(t)
	run(t, repo, "pin", cids["three"]).ok(t)
	kinds = lsKinds(t, run(t, repo, "ls").ok(t).stdout)
	if kinds["one"] != "evictable" || kinds["three"] != "pinned" {
		t.Errorf("after unpin and pin, ls kinds %v", kinds)
	}
	run(t, repo, "pin", "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku").fails(t, "kept here")
	run(t, repo, append([]string{"ls", "--max-storage", "lots"}, isolated...)...).fails(t, `--max-storage "lots": want a size such as 50GB`)
}

// lsCIDs reads ls's table: name → CID.
func lsCIDs(out string) map[string]string {
	cids := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		if f := strings.Fields(line); len(f) >= 5 { // the CID last
			cids[f[0]] = f[len(f)-1]
		}
	}
	return cids
}

// lsKinds reads ls's table: name → kind.
func lsKinds(t *testing.T, out string) map[string]string {
	t.Helper()
	kinds := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 5 { // name, size and its unit, kind, ... CID
			t.Fatalf("ls line %q", line)
		}
		kinds[f[0]] = f[3]
	}
	return kinds
}
