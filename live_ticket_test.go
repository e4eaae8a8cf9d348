package pollen_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/pollen-p2p/pollen"
)

// A live folder's ticket names its followers too: one given out after
// the sharer went away still reaches the folder through them.
func TestLiveTicketNamesFollowers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	src := filepath.Join(t.TempDir(), "shared")
	writeFile(t, filepath.Join(src, "a.txt"), []byte("kept by the followers"))
	sharer, li, tk := shareLive(t, ctx, src)
	first := liveNode(t, t.TempDir())
	defer first.Close()
	m1 := filepath.Join(t.TempDir(), "m1")
	if _, err := first.Follow(ctx, tk, m1); err != nil {
		t.Fatal(err)
	}
	waitMirrors(t, src, []string{m1}, 30*time.Second)
	waitVersion(t, first, 1, 10*time.Second)

	later, err := sharer.LiveTicket(li.Name)
	if err != nil {
		t.Fatal(err)
	}
	if len(later.Holders) != 1 || later.Holders[0].ID != first.ID() || len(later.Holders[0].Addrs) == 0 {
		t.Fatalf("the ticket's holders: %+v, want the follower %s with its addresses", later.Holders, first.ID())
	}
	parsed, err := pollen.ParseLive(later.String())
	if err != nil || len(parsed.Holders) != 1 {
		t.Fatalf("the ticket read back: %+v %v", parsed, err)
	}
	sharer.Close()

	second := liveNode(t, t.TempDir())
	defer second.Close()
	m2 := filepath.Join(t.TempDir(), "m2")
	if _, err := second.Follow(ctx, parsed, m2); err != nil {
		t.Fatal(err)
	}
	took := waitMirrors(t, src, []string{m2}, 30*time.Second)
	t.Logf("mirrored from the follower the ticket names, the sharer gone, in %s", took)
}
