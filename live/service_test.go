package live

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

func newHost(t *testing.T) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func connect(t *testing.T, a, b host.Host) {
	t.Helper()
	if err := a.Connect(context.Background(), peer.AddrInfo{ID: b.ID(), Addrs: b.Addrs()}); err != nil {
		t.Fatal(err)
	}
}

func newService(t *testing.T, h host.Host) *Service {
	s := NewService(h, NewBook(), nil)
	t.Cleanup(func() { s.Close() })
	return s
}

func opened(t *testing.T, name peer.ID, raw []byte) Version {
	t.Helper()
	v, err := Open(name, raw)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A follower gets the version served when it subscribes, then each new
// one pushed, and nothing it already holds.
func TestSubscribePush(t *testing.T) {
	k, name := testKey(t)
	ha, hb := newHost(t), newHost(t)
	connect(t, hb, ha)
	sa, sb := newService(t, ha), newService(t, hb)
	sa.Serve(opened(t, name, sign(t, k, testRoot(t, "1"), 1)))

	got := make(chan Version, 8)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- sb.Subscribe(ctx, ha.ID(), name, 0, func(_ peer.ID, v Version) { got <- v })
	}()
	want := func(seq uint64) {
		t.Helper()
		select {
		case v := <-got:
			if v.Seq != seq {
				t.Fatalf("got version %d, want %d", v.Seq, seq)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no version %d", seq)
		}
	}
	want(1)
	waitFollowers(t, sa, name, 1)
	sa.Serve(opened(t, name, sign(t, k, testRoot(t, "2"), 2)))
	want(2)
	sa.Serve(opened(t, name, sign(t, k, testRoot(t, "1"), 1))) // older: not pushed
	sa.Serve(opened(t, name, sign(t, k, testRoot(t, "3"), 3)))
	want(3)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Subscribe: %v", err)
	}
	waitFollowers(t, sa, name, 0)
}

func waitFollowers(t *testing.T, s *Service, name peer.ID, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); s.Followers(name) != n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d followers, want %d", s.Followers(name), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A holder that pushes a record signed by another key is refused and
// cut off; one that replays an older version is passed over; one that
// holds nothing says so.
func TestSubscribeRefuses(t *testing.T) {
	k, name := testKey(t)
	other, _ := testKey(t)
	ha, hb := newHost(t), newHost(t)
	connect(t, hb, ha)
	sa, sb := newService(t, ha), newService(t, hb)
	ctx := context.Background()
	news := func(peer.ID, Version) { t.Error("news from a bad holder") }

	if err := sb.Subscribe(ctx, ha.ID(), name, 0, news); !errors.Is(err, ErrNotHeld) {
		t.Fatalf("nothing held: %v", err)
	}
	forged, err := Sign(other, testRoot(t, "evil"), 9, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	forged.Name = name // the holder claims it is the folder's
	sa.Serve(forged)
	if err := sb.Subscribe(ctx, ha.ID(), name, 0, news); !errors.Is(err, ErrForged) {
		t.Fatalf("forged: %v", err)
	}

	k2, name2 := k, name
	if _, _, err := sb.book.Accept(name2, sign(t, k2, testRoot(t, "5"), 5)); err != nil {
		t.Fatal(err)
	}
	ha2 := newHost(t)
	connect(t, hb, ha2)
	sa2 := newService(t, ha2)
	sa2.Serve(opened(t, name2, sign(t, k2, testRoot(t, "4"), 4))) // behind
	sctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	if err := sb.Subscribe(sctx, ha2.ID(), name2, 0, news); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("replayed: %v", err)
	}
	if v, _ := sb.book.Latest(name2); v.Seq != 5 {
		t.Fatalf("book went back to %d", v.Seq)
	}
}

// A peer may hold maxSubsPerPeer subscriptions here; past that its
// streams are reset.
func TestSubscribeBudget(t *testing.T) {
	k, name := testKey(t)
	ha, hb := newHost(t), newHost(t)
	connect(t, hb, ha)
	sa, sb := newService(t, ha), newService(t, hb)
	sa.Serve(opened(t, name, sign(t, k, testRoot(t, "1"), 1)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range maxSubsPerPeer {
		go sb.Subscribe(ctx, ha.ID(), name, 1, func(peer.ID, Version) {})
	}
	waitFollowers(t, sa, name, 1)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		sa.mu.Lock()
		n := sa.load[hb.ID()]
		sa.mu.Unlock()
		if n == maxSubsPerPeer {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d subscriptions held", n)
		}
	}
	err := sb.Subscribe(ctx, ha.ID(), name, 1, func(peer.ID, Version) {})
	if err == nil || errors.Is(err, ErrNotHeld) {
		t.Fatalf("past the budget: %v", err)
	}
}

func TestWireRoundTrip(t *testing.T) {
	_, name := testKey(t)
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	if err := writeRequest(w, name, 300); err != nil {
		t.Fatal(err)
	}
	n, have, err := readRequest(bufio.NewReader(&buf))
	if err != nil || n != name || have != 300 {
		t.Fatalf("readRequest = %s %d %v", n, have, err)
	}
}

// FuzzReadRequest and FuzzReadRecord: what a stranger sends is refused
// or read within bounds, never a panic.
func FuzzReadRequest(f *testing.F) {
	_, name := testKey(f)
	var buf bytes.Buffer
	writeRequest(bufio.NewWriter(&buf), name, 7)
	f.Add(buf.Bytes())
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		n, _, err := readRequest(bufio.NewReader(bytes.NewReader(b)))
		if err == nil && len(n) > maxNameLen {
			t.Fatalf("name of %d bytes", len(n))
		}
	})
}

func FuzzReadRecord(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte{0x80, 0x50})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		raw, err := readRecord(bufio.NewReader(bytes.NewReader(b)))
		if err == nil && len(raw) > MaxRecord {
			t.Fatalf("record of %d bytes", len(raw))
		}
	})
}

// A version signed again later is what a new follower is sent: the
// first signature runs out, the folder may not change for days. A
// withdrawn name is not held.
func TestServeSignedAgain(t *testing.T) {
	k, name := testKey(t)
	ha, hb := newHost(t), newHost(t)
	connect(t, hb, ha)
	sa, sb := newService(t, ha), newService(t, hb)
	root := testRoot(t, "1")
	first, err := Sign(k, root, 1, time.Now().Add(-Validity+time.Minute)) // a minute left
	if err != nil {
		t.Fatal(err)
	}
	again, err := Sign(k, root, 1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sa.Serve(first)
	sa.Withdraw(name)
	if err := sb.Subscribe(context.Background(), ha.ID(), name, 0, nil); !errors.Is(err, ErrNotHeld) {
		t.Fatalf("withdrawn: %v, want ErrNotHeld", err)
	}
	sa.Serve(first)
	sa.Serve(again)
	sa.Serve(first) // an older signature does not come back
	got := make(chan Version, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go sb.Subscribe(ctx, ha.ID(), name, 0, func(_ peer.ID, v Version) { got <- v })
	select {
	case v := <-got:
		if !v.EOL.Equal(again.EOL) {
			t.Fatalf("sent the record valid until %s, want the later signature's %s", v.EOL, again.EOL)
		}
	case <-ctx.Done():
		t.Fatal("nothing sent")
	}
}
