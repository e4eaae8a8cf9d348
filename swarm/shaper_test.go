package swarm_test

import (
	"context"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/pollen-p2p/pollen/swarm"
)

const flood = "/pollen-test/flood/1"

// TestPeerUploadCap: a node capped at X a peer and nothing in all sends
// two peers X each, over TCP and over QUIC, and twice as much once the
// cap doubles while they read.
func TestPeerUploadCap(t *testing.T) {
	if testing.Short() {
		t.Skip("measures rates: the race detector's run (-short) is too slow to keep them")
	}
	const capped = 512 << 10 // bytes a second
	for _, addr := range []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"} {
		t.Run(addr, func(t *testing.T) {
			listen := []ma.Multiaddr{ma.StringCast(addr)}
			src := newSwarm(t, swarm.Config{Offline: true, Listen: listen, Limits: swarm.Limits{PeerUp: capped}})
			src.Host.SetStreamHandler(flood, func(s network.Stream) {
				defer s.Reset()
				buf := make([]byte, 64<<10)
				for {
					if _, err := s.Write(buf); err != nil {
						return
					}
				}
			})
			readers := []*swarm.Swarm{newSwarm(t, swarm.Config{Offline: true, Listen: listen}), newSwarm(t, swarm.Config{Offline: true, Listen: listen})}
			rates := func() []float64 {
				out := make([]float64, len(readers))
				var wg sync.WaitGroup
				for i, r := range readers {
					wg.Go(func() { out[i] = readRate(t, r, src) })
				}
				wg.Wait()
				return out
			}
			for i, got := range rates() {
				t.Logf("peer %d: %.0f KiB/s, cap %d KiB/s", i, got/1024, capped>>10)
				if got < capped*0.85 || got > capped*1.15 {
					t.Errorf("peer %d read %.0f KiB/s, want %d ± 15%%", i, got/1024, capped>>10)
				}
			}
			src.SetLimits(swarm.Limits{PeerUp: 2 * capped})
			for i, got := range rates() {
				t.Logf("peer %d: %.0f KiB/s, cap %d KiB/s", i, got/1024, 2*capped>>10)
				if got < 2*capped*0.85 || got > 2*capped*1.15 {
					t.Errorf("peer %d read %.0f KiB/s after the cap doubled, want %d ± 15%%", i, got/1024, 2*capped>>10)
				}
			}
		})
	}
}

// readRate reads src's flood for a while and returns the rate after the
// first half second (the bucket's burst, the connection's start).
func readRate(t *testing.T, r, src *swarm.Swarm) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Connect(ctx, src.AddrInfo()); err != nil {
		t.Error(err)
		return 0
	}
	s, err := r.Host.NewStream(ctx, src.Host.ID(), flood)
	if err != nil {
		t.Error(err)
		return 0
	}
	defer s.Reset()
	io.CopyN(io.Discard, s, 1) // the stream is open
	time.Sleep(500 * time.Millisecond)
	io.CopyN(io.Discard, s, 1<<20) // whatever queued meanwhile
	begin := time.Now()
	n, _ := io.Copy(io.Discard, io.LimitReader(&timed{s, begin.Add(1500 * time.Millisecond)}, 1<<30))
	return float64(n) / time.Since(begin).Seconds()
}

// timed reads until a deadline.
type timed struct {
	r   io.Reader
	end time.Time
}

func (t *timed) Read(p []byte) (int, error) {
	if time.Now().After(t.end) {
		return 0, io.EOF
	}
	return t.r.Read(p)
}
