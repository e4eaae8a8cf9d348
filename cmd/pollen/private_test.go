package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pollen-p2p/pollen"
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

// TestSwarmKey: nodes whose repos hold the same swarm.key fetch from each
// other; a node without it reaches no one; status says so.
func TestSwarmKey(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	key := strings.TrimSpace(run(t, a, "swarm-key").ok(t).stdout)
	data, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b, "swarm.key"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, a, "swarm-key").fails(t, "exists already")
	if st := run(t, a, "status").ok(t); !strings.Contains(st.stdout, "network: private") {
		t.Errorf("status:\n%s", st.stdout)
	}
	src := mixed(t) + "/several-MiB.bin"
	s := startServer(t, a, "share", src)
	out := t.TempDir()
	run(t, b, append([]string{"get", s.ticket, "-o", out}, isolated...)...).ok(t)
	sameFile(t, src, filepath.Join(out, "several-MiB.bin"))
	run(t, t.TempDir(), append([]string{"get", s.ticket, "-o", t.TempDir(), "--timeout", "5s"}, isolated...)...).
		fails(t, "could not reach any peer")
}

// TestPrivateShareThroughDaemons: `share --private` handed to a running
// daemon prints a ticket with its secret; a second daemon fetches with
// it, and a stranger with the CID gets nothing from either.
func TestPrivateShareThroughDaemons(t *testing.T) {
	repoA, repoB := t.TempDir(), t.TempDir()
	startDaemon(t, repoA)
	startDaemon(t, repoB)
	src := mixed(t) + "/several-MiB.bin"
	sh := run(t, repoA, "share", "--private", src).ok(t)
	var ticket string
	for _, l := range strings.Split(sh.stdout, "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "ticket" {
			ticket = f[1]
		}
	}
	tk, err := pollen.ParseTicket(ticket)
	if err != nil || !tk.Private() {
		t.Fatalf("the daemon's ticket %q: %v", ticket, err)
	}
	if ls := run(t, repoA, "ls").ok(t); !strings.Contains(ls.stdout, "shared, private") {
		t.Errorf("ls through the daemon:\n%s", ls.stdout)
	}
	out := t.TempDir()
	run(t, repoB, "get", ticket, "-o", out).ok(t)
	sameFile(t, src, filepath.Join(out, "several-MiB.bin"))
	tried := false
	for _, p := range tk.Peer.Addrs {
		if strings.Contains(p.String(), "127.0.0.1/tcp") && !tried {
			tried = true
			run(t, t.TempDir(), append([]string{"get", tk.Root.String(), "-o", t.TempDir(), "--timeout", "4s",
				"--from", p.String() + "/p2p/" + tk.Peer.ID.String()}, isolated...)...).fails(t, "no peer has it")
		}
	}
	if !tried {
		t.Errorf("the ticket holds no loopback TCP address: %v", tk.Peer.Addrs)
	}
}
