package live

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// A new version goes to the first follower at once and to the second
// only once the first serves it.
func TestStaggeredPush(t *testing.T) {
	k, name := testKey(t)
	ha, hb, hc := newHost(t), newHost(t), newHost(t)
	connect(t, hb, ha)
	connect(t, hc, ha)
	sa, sb, sc := newService(t, ha), newService(t, hb), newService(t, hc)
	v1 := opened(t, name, sign(t, k, testRoot(t, "1"), 1))
	sa.Serve(v1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gotB, gotC := make(chan Version, 8), make(chan Version, 8)
	go sb.Subscribe(ctx, ha.ID(), name, 0, func(_ peer.ID, v Version) { gotB <- v })
	waitFollowers(t, sa, name, 1) // b is the first subscribed
	go sc.Subscribe(ctx, ha.ID(), name, 0, func(_ peer.ID, v Version) { gotC <- v })
	waitFollowers(t, sa, name, 2)
	recv := func(ch chan Version, seq uint64, within time.Duration) bool {
		t.Helper()
		select {
		case v := <-ch:
			if v.Seq != seq {
				t.Fatalf("got version %d, want %d", v.Seq, seq)
			}
			return true
		case <-time.After(within):
			return false
		}
	}
	if !recv(gotB, 1, 5*time.Second) || !recv(gotC, 1, 5*time.Second) {
		t.Fatal("version 1 not pushed to both")
	}
	sb.Serve(v1)

	v2 := opened(t, name, sign(t, k, testRoot(t, "2"), 2))
	sa.Serve(v2)
	if !recv(gotB, 2, 5*time.Second) {
		t.Fatal("the first follower was not pushed version 2")
	}
	if recv(gotC, 2, 500*time.Millisecond) {
		t.Fatal("the second follower was pushed version 2 before the first held it")
	}
	sb.Serve(v2) // b fetched it and serves it
	if !recv(gotC, 2, 5*time.Second) {
		t.Fatal("the second follower was not pushed version 2 once the first held it")
	}
}
