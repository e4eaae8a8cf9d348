package main_test

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestPrivateShareCLI: `share --private` prints a ticket that fetches;
// the CID alone fetches nothing, and says so; `share --allow` serves only
// the peer it names, and tells another ticket holder why not.
func TestPrivateShareCLI(t *testing.T) {
	src := mixed(t)
	a := startServer(t, t.TempDir(), "share", "--private", src)
	if a.cid != mixedCID {
		t.Fatalf("share printed CID %q", a.cid)
	}
	public := startServer(t, t.TempDir(), "share", src)
	if len(a.ticket) <= len(public.ticket) {
		t.Errorf("a private ticket (%d chars) carries no more than a public one (%d)", len(a.ticket), len(public.ticket))
	}
	public.stop()

	run(t, t.TempDir(), append([]string{"get", mixedCID, "-o", t.TempDir(), "--from", a.addrs[0], "--timeout", "4s"}, isolated...)...).
		fails(t, "no peer has it")

	friend := t.TempDir()
	out := t.TempDir()
	run(t, friend, append([]string{"get", a.ticket, "-o", out}, isolated...)...).ok(t)
	assertSameTree(t, src, filepath.Join(out, "mixed"), ".hidden-file")
	if ls := run(t, friend, "ls").ok(t); !strings.Contains(ls.stdout, "evictable, private") {
		t.Errorf("ls of the friend's repo:\n%s", ls.stdout)
	}
	a.stop()

	id := strings.Fields(run(t, friend, "id").ok(t).stdout)[1]
	b := startServer(t, t.TempDir(), "share", "--allow", id, src)
	run(t, t.TempDir(), append([]string{"get", b.ticket, "-o", t.TempDir(), "--timeout", "4s"}, isolated...)...).
		fails(t, "limited to other peers")
	out2 := t.TempDir()
	run(t, friend, append([]string{"get", b.ticket, "-o", out2}, isolated...)...).ok(t)
	assertSameTree(t, src, filepath.Join(out2, "mixed"), ".hidden-file")
}
