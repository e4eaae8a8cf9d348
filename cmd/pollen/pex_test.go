package main_test

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dustin/go-humanize"
)

// TestPeerExchange: the sharer sits behind a slow link; a first getter
// fetched from it and seeds; a second getter has only the sharer's
// ticket, and neither a DHT nor the LAN to look with. The sharer tells it
// of the first getter (peer exchange), which sends most of the file.
func TestPeerExchange(t *testing.T) {
	ns, addr := shapedNS(t, 16) // 2 MB/s
	src := bigFile(t, 12)
	a := startServerCmd(t, exec.Command("ip", "netns", "exec", ns, pollenBin(t), "--repo", t.TempDir(), "share", src,
		"--listen", "/ip4/"+addr+"/tcp/0", "--offline", "--no-mdns"))
	// The first getter listens where both the sharer and the second getter
	// reach it: this end of the namespace's link.
	hostEnd := strings.TrimSuffix(addr, ".2") + ".1"
	b := startServerArgs(t, t.TempDir(), []string{"get", a.ticket, "-o", t.TempDir(), "--seed", "--timeout", "60s",
		"--listen", "/ip4/" + hostEnd + "/tcp/0", "--offline", "--no-mdns"})
	_, bID, _ := strings.Cut(b.addrs[0], "/p2p/")

	out := t.TempDir()
	r := run(t, t.TempDir(), append([]string{"get", a.ticket, "-o", out, "--timeout", "60s"}, isolated...)...).ok(t)
	sameFile(t, src, filepath.Join(out, filepath.Base(src)))
	m := regexp.MustCompile(`from ` + regexp.QuoteMeta(bID) + `: ([0-9.]+ [KMG]?i?B)`).FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("nothing came from the first getter %s, which the sharer should have named:\n%s", bID, r.stderr)
	}
	got, err := humanize.ParseBytes(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if got < 6<<20 {
		t.Errorf("the first getter, on the fast link, sent only %s of 12 MiB:\n%s", m[1], r.stderr)
	}
}
