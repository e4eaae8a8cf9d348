package swarm

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// TestPeerBucketsComeAndGo: a peer has a bucket while it has a
// connection, over TCP or QUIC, and none once the last one closes.
func TestPeerBucketsComeAndGo(t *testing.T) {
	for _, addr := range []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"} {
		t.Run(addr, func(t *testing.T) {
			cfg := Config{Offline: true, NoMDNS: true, Shaped: true, Listen: []ma.Multiaddr{ma.StringCast(addr)}}
			a, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			b, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := b.Connect(ctx, a.AddrInfo()); err != nil {
				t.Fatal(err)
			}
			waitFor(t, func() bool { return a.shaper.peerCount() == 1 && b.shaper.peerCount() == 1 })
			a.shaper.mu.Lock()
			quic := len(a.shaper.quic)
			a.shaper.mu.Unlock()
			if quic != 0 != (addr != "/ip4/127.0.0.1/tcp/0") {
				t.Errorf("%d QUIC connections known", quic)
			}
			b.Host.Network().ClosePeer(a.Host.ID())
			waitFor(t, func() bool { return a.shaper.peerCount() == 0 && b.shaper.peerCount() == 0 })
			if n := len(*a.shaper.udp.Load()); n != 0 {
				t.Errorf("%d QUIC addresses left", n)
			}
		})
	}
}

// TestPeerBucketsBounded: past maxPeerBuckets, peers share one bucket,
// which is never dropped.
func TestPeerBucketsBounded(t *testing.T) {
	s := newShaper(Limits{PeerUp: 1 << 20})
	var ids []peer.ID
	for i := range maxPeerBuckets + 10 {
		id := peer.ID(string(rune(i)) + "peer")
		ids = append(ids, id)
		b := s.acquire(id)
		if (i >= maxPeerBuckets) != (b == s.overflow) {
			t.Fatalf("peer %d: overflow %v", i, b == s.overflow)
		}
		if !b.on.Load() {
			t.Fatalf("peer %d's bucket does not limit", i)
		}
	}
	if s.peerCount() != maxPeerBuckets {
		t.Errorf("%d buckets", s.peerCount())
	}
	for _, id := range ids {
		s.release(id, s.peers[id])
	}
	s.release(ids[len(ids)-1], s.overflow)
	if s.peerCount() != 0 {
		t.Errorf("%d buckets after every peer left", s.peerCount())
	}
	s.set(Limits{})
	if s.overflow.on.Load() {
		t.Error("the shared bucket still limits with no cap")
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}
