package swarm_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"github.com/pollen-p2p/pollen/swarm"
)

// TestBatchedTLSInterop sends streams of writes of every size, several at
// once, between a host on pollen's TLS and one on go-libp2p's (and
// between two on pollen's): the gathered records must arrive as the same
// bytes in the same order, in both directions.
func TestBatchedTLSInterop(t *testing.T) {
	pollen := []libp2p.Option{swarm.Security(), swarm.Muxer()}
	stock := []libp2p.Option{libp2p.Security(libp2ptls.ID, libp2ptls.New), libp2p.Muxer(yamux.ID, yamux.DefaultTransport)}
	for _, tc := range []struct {
		name           string
		sender, getter []libp2p.Option
	}{
		{"pollen to go-libp2p", pollen, stock},
		{"go-libp2p to pollen", stock, pollen},
		{"pollen to pollen", pollen, pollen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newHost(t, tc.sender, "/ip4/127.0.0.1/tcp/0")
			b := newHost(t, tc.getter, "")
			const streams = 4
			type sum struct {
				i   byte
				sha [32]byte
			}
			sent := make(chan sum, streams)
			var wg sync.WaitGroup
			a.SetStreamHandler("/pollen-test/tls/1", func(s network.Stream) {
				defer s.Close()
				var i [1]byte
				if _, err := io.ReadFull(s, i[:]); err != nil {
					t.Error(err)
					return
				}
				// Writes from 1 byte to 1 MiB: under batchMin, over
				// maxFrame and over batchCap.
				rng := rand.New(rand.NewPCG(uint64(i[0]), 1))
				h := sha256.New()
				buf := make([]byte, 1<<20)
				for n := 0; n < 24<<20; {
					p := buf[:1+rng.IntN(len(buf))]
					for j := range p {
						p[j] = byte(rng.Uint32())
					}
					if _, err := s.Write(p); err != nil {
						t.Error(err)
						return
					}
					h.Write(p)
					n += len(p)
				}
				r := sum{i: i[0]}
				h.Sum(r.sha[:0])
				sent <- r
			})
			ctx := context.Background()
			if err := b.Connect(ctx, peer.AddrInfo{ID: a.ID(), Addrs: a.Addrs()}); err != nil {
				t.Fatal(err)
			}
			got := make([][32]byte, streams)
			for i := range streams {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s, err := b.NewStream(ctx, a.ID(), "/pollen-test/tls/1")
					if err != nil {
						t.Error(err)
						return
					}
					defer s.Close()
					if _, err := s.Write([]byte{byte(i)}); err != nil {
						t.Error(err)
						return
					}
					h := sha256.New()
					if _, err := io.Copy(h, s); err != nil {
						t.Error(err)
						return
					}
					h.Sum(got[i][:0])
				}()
			}
			wg.Wait()
			for range streams {
				select {
				case r := <-sent:
					if !bytes.Equal(r.sha[:], got[r.i][:]) {
						t.Errorf("stream %d: received bytes differ from those sent", r.i)
					}
				default:
					t.Fatal("a stream's sender did not finish")
				}
			}
		})
	}
}

func newHost(t *testing.T, tpt []libp2p.Option, listen string) host.Host {
	t.Helper()
	opts := append([]libp2p.Option{libp2p.Transport(tcp.NewTCPTransport), libp2p.NoListenAddrs}, tpt...)
	if listen != "" {
		opts = append(opts, libp2p.ListenAddrStrings(listen))
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}
