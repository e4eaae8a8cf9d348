package swarm

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/sec"
	tptu "github.com/libp2p/go-libp2p/p2p/net/upgrader"
	noise "github.com/libp2p/go-libp2p/p2p/security/noise"
	"golang.org/x/time/rate"
)

// Bandwidth limits. A node's upload and download rates are shaped where
// every byte passes: under the security layer of each TCP connection
// (TLS or Noise: pollen's protocols, Bitswap, the DHT alike, counted as
// they go on the wire), and at the UDP socket QUIC runs on. Writes wait
// for tokens; reads are taken, then the next waits, so the kernel's
// buffer fills and the sender's flow control slows it.

// Limits are a node's rates in bytes a second; 0 is no limit.
type Limits struct{ Up, Down int64 }

// shaper holds the token buckets every connection draws from.
type shaper struct {
	mu       sync.Mutex
	up, down bucket
	limits   Limits
}

// bucket is a token bucket, and whether it limits at all: an unlimited
// node's every read and write asks, and an atomic is cheaper than the
// limiter's lock.
type bucket struct {
	on  atomic.Bool
	lim *rate.Limiter
}

func newShaper(l Limits) *shaper {
	s := &shaper{}
	s.up.lim, s.down.lim = rate.NewLimiter(rate.Inf, 0), rate.NewLimiter(rate.Inf, 0)
	s.set(l)
	return s
}

// set changes the limits, for every connection at once.
func (s *shaper) set(l Limits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = l
	s.up.set(l.Up)
	s.down.set(l.Down)
}

func (s *shaper) get() Limits {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limits
}

// set makes b bps bytes a second, with a burst of a twentieth of a
// second (at least 16 KiB): short enough that the rate holds over a
// second, long enough for a packet.
func (b *bucket) set(bps int64) {
	if bps <= 0 {
		b.on.Store(false)
		b.lim.SetLimit(rate.Inf)
		return
	}
	b.lim.SetBurst(int(max(bps/20, 16<<10)))
	b.lim.SetLimit(rate.Limit(bps))
	b.on.Store(true)
}

// wait takes n tokens, a burst at a time.
func (b *bucket) wait(n int) {
	if !b.on.Load() {
		return
	}
	for n > 0 {
		k := min(n, b.lim.Burst())
		b.lim.WaitN(context.Background(), k)
		n -= k
	}
}

// shapedConn is a TCP connection under the security layer.
type shapedConn struct {
	net.Conn
	s *shaper
}

func (c shapedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.s.down.wait(n)
	return n, err
}

func (c shapedConn) Write(p []byte) (int, error) {
	if !c.s.up.on.Load() {
		return c.Conn.Write(p) // a large write stays one system call (tls.go)
	}
	done := 0
	for done < len(p) {
		k := min(len(p)-done, max(c.s.up.lim.Burst(), 16<<10))
		c.s.up.wait(k)
		n, err := c.Conn.Write(p[done : done+k])
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// shapedPacketConn is the UDP socket QUIC runs on.
type shapedPacketConn struct {
	net.PacketConn
	s *shaper
}

func (c shapedPacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(p)
	c.s.down.wait(n)
	return n, addr, err
}

func (c shapedPacketConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	c.s.up.wait(len(p))
	return c.PacketConn.WriteTo(p, addr)
}

// shapedNoise is Noise over shaped connections (TLS is shaped in
// batchedTLS, which already wraps the socket).
type shapedNoise struct {
	*noise.Transport
	s *shaper
}

func newShapedNoise(s *shaper) func(protocol.ID, crypto.PrivKey, []tptu.StreamMuxer) (*shapedNoise, error) {
	return func(id protocol.ID, key crypto.PrivKey, muxers []tptu.StreamMuxer) (*shapedNoise, error) {
		t, err := noise.New(id, key, muxers)
		if err != nil {
			return nil, err
		}
		return &shapedNoise{t, s}, nil
	}
}

func (t *shapedNoise) SecureInbound(ctx context.Context, insecure net.Conn, p peer.ID) (sec.SecureConn, error) {
	return t.Transport.SecureInbound(ctx, t.s.conn(insecure), p)
}

func (t *shapedNoise) SecureOutbound(ctx context.Context, insecure net.Conn, p peer.ID) (sec.SecureConn, error) {
	return t.Transport.SecureOutbound(ctx, t.s.conn(insecure), p)
}

// conn is c shaped by s; c itself when s is nil (no shaping).
func (s *shaper) conn(c net.Conn) net.Conn {
	if s == nil {
		return c
	}
	return shapedConn{c, s}
}

// ErrNotShaped: the node started with no limit and not Shaped.
var ErrNotShaped = errors.New("this node started without rate limits: restart it with --max-up or --max-down")

// SetLimits changes the node's rates while it runs; see Config.Shaped.
func (s *Swarm) SetLimits(l Limits) error {
	if s.shaper == nil {
		return ErrNotShaped
	}
	s.shaper.set(l)
	return nil
}

// Limits returns the node's rates.
func (s *Swarm) Limits() Limits {
	if s.shaper == nil {
		return Limits{}
	}
	return s.shaper.get()
}
