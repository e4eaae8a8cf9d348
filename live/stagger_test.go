package live

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
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

// A first follower that answers nothing any more (killed, or its network
// gone, while its connection lives on) holds the others back only until
// it leaves a ping unanswered, not for staggerMax, and only once.
func TestStaggerPassesOverAFollowerGoneSilent(t *testing.T) {
	k, name := testKey(t)
	ha, hb, hc := newHost(t), newHost(t), newHost(t)
	connect(t, hb, ha)
	connect(t, hc, ha)
	sa, sb, sc := newService(t, ha), newService(t, hb), newService(t, hc)
	sa.Serve(opened(t, name, sign(t, k, testRoot(t, "1"), 1)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gotC := make(chan Version, 8)
	go sb.Subscribe(ctx, ha.ID(), name, 0, func(peer.ID, Version) {})
	waitFollowers(t, sa, name, 1) // b is the first subscribed
	go sc.Subscribe(ctx, ha.ID(), name, 0, func(_ peer.ID, v Version) { gotC <- v })
	waitFollowers(t, sa, name, 2)
	for v := range gotC {
		if v.Seq == 1 {
			break
		}
	}
	// b goes silent: its pings, like everything else, go unanswered.
	hb.SetStreamHandler(ping.ID, func(st network.Stream) { io.Copy(io.Discard, st) })
	start := time.Now()
	sa.Serve(opened(t, name, sign(t, k, testRoot(t, "2"), 2)))
	select {
	case v := <-gotC:
		if v.Seq != 2 {
			t.Fatalf("got version %d, want 2", v.Seq)
		}
		t.Logf("the second follower was pushed version 2 after %s", time.Since(start).Round(time.Millisecond))
		if took := time.Since(start); took > staggerAlive+2*time.Second {
			t.Errorf("the second follower waited %s for a silent first one", took)
		}
	case <-time.After(staggerMax):
		t.Fatal("the second follower waited staggerMax for a silent first one")
	}
	// Nor is it waited for again, for as long as its stream lives on.
	start = time.Now()
	sa.Serve(opened(t, name, sign(t, k, testRoot(t, "3"), 3)))
	select {
	case v := <-gotC:
		if v.Seq != 3 {
			t.Fatalf("got version %d, want 3", v.Seq)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("the second follower waited %s for version 3", took)
		}
	case <-time.After(staggerMax):
		t.Fatal("the second follower waited staggerMax for version 3")
	}
}
