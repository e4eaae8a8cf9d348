package swarm

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
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
// buffer fills and the sender's flow control slows it. What is sent to
// one peer draws from the node's bucket and from that peer's: a TCP
// socket learns its peer in the security handshake, the shared QUIC
// socket looks the peer up by the packet's address.

// Limits are a node's rates in bytes a second; 0 is no limit. PeerUp
// caps what each peer is sent, under Up: one peer fetching fast cannot
// take the whole upload.
type Limits struct{ Up, Down, PeerUp int64 }

// maxPeerBuckets bounds the peers with a bucket of their own (above the
// connection manager's high mark); peers past it share one.
const maxPeerBuckets = 1024

// shaper holds the token buckets every connection draws from, and counts
// the bytes that pass (on the wire: TLS or QUIC framing included).
type shaper struct {
	mu       sync.Mutex
	up, down bucket
	limits   Limits
	// peers holds a bucket per connected peer, for PeerUp; overflow is
	// the one shared past maxPeerBuckets.
	peers    map[peer.ID]*peerBucket
	overflow *peerBucket
	// quic holds the open QUIC connections; udp maps their remote
	// addresses to their peers' buckets (a socket sees addresses, not
	// peers), made anew on every change: every packet sent reads it.
	quic           map[network.Conn]quicConn
	udp            atomic.Pointer[map[netip.AddrPort]*peerBucket]
	sent, received atomic.Int64
}

// bucket is a token bucket, and whether it limits at all: an unlimited
// node's every read and write asks, and an atomic is cheaper than the
// limiter's lock.
type bucket struct {
	on  atomic.Bool
	lim *rate.Limiter
}

// peerBucket is a peer's upload bucket and the connections that use it:
// it goes when the last one closes.
type peerBucket struct {
	bucket
	refs int
}

func newShaper(l Limits) *shaper {
	s := &shaper{peers: map[peer.ID]*peerBucket{}, overflow: newPeerBucket(), quic: map[network.Conn]quicConn{}}
	s.up.lim, s.down.lim = rate.NewLimiter(rate.Inf, 0), rate.NewLimiter(rate.Inf, 0)
	s.udp.Store(&map[netip.AddrPort]*peerBucket{})
	s.set(l)
	return s
}

func newPeerBucket() *peerBucket {
	return &peerBucket{bucket: bucket{lim: rate.NewLimiter(rate.Inf, 0)}}
}

// set changes the limits, for every connection at once.
func (s *shaper) set(l Limits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = l
	s.up.set(l.Up)
	s.down.set(l.Down)
	s.overflow.set(l.PeerUp)
	for _, b := range s.peers {
		b.set(l.PeerUp)
	}
}

func (s *shaper) get() Limits {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limits
}

// acquire returns p's bucket for one more connection, made on demand.
func (s *shaper) acquire(p peer.ID) *peerBucket {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.peers[p]
	if b == nil {
		if len(s.peers) >= maxPeerBuckets {
			return s.overflow
		}
		b = newPeerBucket()
		b.set(s.limits.PeerUp)
		s.peers[p] = b
	}
	b.refs++
	return b
}

// release drops a connection of p's; the bucket goes with the last.
func (s *shaper) release(p peer.ID, b *peerBucket) {
	if b == nil || b == s.overflow {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if b.refs--; b.refs <= 0 && s.peers[p] == b {
		delete(s.peers, p)
	}
}

// peerCount is how many peers have a bucket of their own.
func (s *shaper) peerCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.peers)
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

// burst is the most one wait should take of b, or 0 when b is off.
func (b *bucket) burst() int {
	if b == nil || !b.on.Load() {
		return 0
	}
	return b.lim.Burst()
}

// waitUp takes n tokens of the node's upload and of a peer's (pb may be
// nil: a connection whose peer is not known yet).
func (s *shaper) waitUp(pb *peerBucket, n int) {
	s.up.wait(n)
	if pb != nil {
		pb.wait(n)
	}
}

// shapedConn is a TCP connection under the security layer. Its peer is
// known once the handshake is done (attach).
type shapedConn struct {
	net.Conn
	s    *shaper
	peer atomic.Pointer[peerBucket]
	// mu orders attach and Close, so a bucket is never given back twice
	// or never.
	mu     sync.Mutex
	id     peer.ID
	closed bool
}

func (c *shapedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.s.received.Add(int64(n))
	c.s.down.wait(n)
	return n, err
}

func (c *shapedConn) Write(p []byte) (int, error) {
	pb := c.peer.Load()
	step := max(c.s.up.burst(), pb.burstOf())
	if step == 0 {
		n, err := c.Conn.Write(p) // a large write stays one system call (tls.go)
		c.s.sent.Add(int64(n))
		return n, err
	}
	step = max(step, 16<<10)
	done := 0
	for done < len(p) {
		k := min(len(p)-done, step)
		c.s.waitUp(pb, k)
		n, err := c.Conn.Write(p[done : done+k])
		done += n
		c.s.sent.Add(int64(n))
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// burstOf is pb's burst, 0 for none (nil included).
func (pb *peerBucket) burstOf() int {
	if pb == nil {
		return 0
	}
	return pb.burst()
}

func (c *shapedConn) Close() error {
	c.mu.Lock()
	c.closed = true
	pb := c.peer.Swap(nil)
	c.mu.Unlock()
	if pb != nil {
		c.s.release(c.id, pb)
	}
	return c.Conn.Close()
}

// attach gives c, secured to p, p's upload bucket.
func attach(c net.Conn, p peer.ID) {
	sc, ok := c.(*shapedConn)
	if !ok {
		return
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.closed || sc.peer.Load() != nil {
		return
	}
	sc.id = p
	sc.peer.Store(sc.s.acquire(p))
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
	c := t.s.conn(insecure)
	return attached(c)(t.Transport.SecureInbound(ctx, c, p))
}

func (t *shapedNoise) SecureOutbound(ctx context.Context, insecure net.Conn, p peer.ID) (sec.SecureConn, error) {
	c := t.s.conn(insecure)
	return attached(c)(t.Transport.SecureOutbound(ctx, c, p))
}

// attached attaches the shaped socket under a secured connection to
// the peer the handshake found.
func attached(c net.Conn) func(sec.SecureConn, error) (sec.SecureConn, error) {
	return func(sc sec.SecureConn, err error) (sec.SecureConn, error) {
		if err == nil {
			attach(c, sc.RemotePeer())
		}
		return sc, err
	}
}

// conn is c shaped by s; c itself when s is nil (no shaping).
func (s *shaper) conn(c net.Conn) net.Conn {
	if s == nil {
		return c
	}
	return &shapedConn{Conn: c, s: s}
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

// Wire returns the bytes sent and received on every connection since the
// node started, as the socket sees them (TLS, Noise and QUIC framing
// included, TCP/UDP and IP headers not); ok is false on a node that is
// not shaped, which does not count them.
func (s *Swarm) Wire() (sent, received int64, ok bool) {
	if s.shaper == nil {
		return 0, 0, false
	}
	return s.shaper.sent.Load(), s.shaper.received.Load(), true
}
