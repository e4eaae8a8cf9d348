package main_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pollen-p2p/pollen/internal/netlab"
)

// TestLimitedRelay: a relay whose operator allows 4 MiB a connection,
// two homes behind symmetric NATs (no hole to punch), a 12 MiB file.
// Each relayed connection ends at its limit; the get dials the sharer
// again through the relay and goes on where it was, to the end.
func TestLimitedRelay(t *testing.T) {
	lab := netlab.New(t)
	boot := startPublic(t, lab.Public("boot"), "--bootstrap", "none")
	relay := startPublic(t, lab.Public("relay"), "--relay", "--relay-max-data", "4MiB", "--bootstrap", boot)
	alice, bob := lab.Home("alice", netlab.Symmetric), lab.Home("bob", netlab.Symmetric)
	home := append([]string{"--bootstrap", boot, "--use-relay", relay}, labListen...)
	src := bigFile(t, 12)
	share := startServerCmd(t, alice.Host.Command(context.Background(), pollenBin(t),
		append([]string{"--repo", t.TempDir(), "share", src}, home...)...))
	ticket := share.waitTicket(relayedTicket, 90*time.Second)

	out := t.TempDir()
	begin := time.Now()
	res, err := labGet(t, bob.Host, append([]string{ticket, "-o", out, "--timeout", "60s"}, home...)...)
	if err != nil {
		t.Fatalf("get through a relay of 4 MiB a connection: %v\n%s", err, res)
	}
	t.Logf("12 MiB through a relay of 4 MiB a connection in %s:\n%s", time.Since(begin).Round(time.Millisecond), res)
	sameFile(t, src, filepath.Join(out, filepath.Base(src)))
	if !strings.Contains(res, "relayed through") {
		t.Errorf("want the get to say it was relayed")
	}
}
