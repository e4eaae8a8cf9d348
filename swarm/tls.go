package swarm

import (
	"context"
	"net"
	"sync"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/sec"
	tptu "github.com/libp2p/go-libp2p/p2p/net/upgrader"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
)

// Go's TLS writes every record of at most 16 KiB to the socket on its
// own, so a yamux frame of maxFrame bytes costs 16 system calls, and on a
// virtual machine each is dear (docs/performance.md). A pollen
// host's TLS holds the records of one large write back and sends them in
// one. The bytes on the wire are the same, so every TLS peer, Kubo
// included, reads them as before.

// batchMin is the smallest write whose records are gathered: anything
// shorter makes at most two records.
const batchMin = 32 << 10

// batchCap is the room for the records of maxFrame bytes, the most
// gathered at once.
const batchCap = maxFrame + 16<<10

var batchPool = sync.Pool{New: func() any { b := make([]byte, 0, batchCap); return &b }}

// Security is pollen hosts' TLS: libp2p's, writing each large write's
// records to the socket at once.
func Security() libp2p.Option { return security(nil) }

// security is Security over connections shaped by s (nil: not shaped).
func security(s *shaper) libp2p.Option {
	return libp2p.Security(libp2ptls.ID, func(id protocol.ID, key crypto.PrivKey, muxers []tptu.StreamMuxer) (*batchedTLS, error) {
		t, err := libp2ptls.New(id, key, muxers)
		if err != nil {
			return nil, err
		}
		return &batchedTLS{t, s}, nil
	})
}

type batchedTLS struct {
	*libp2ptls.Transport
	s *shaper
}

// socket is what TLS writes to: the connection, shaped.
func (t *batchedTLS) socket(insecure net.Conn) *batchConn {
	return &batchConn{Conn: t.s.conn(insecure)}
}

func (t *batchedTLS) SecureInbound(ctx context.Context, insecure net.Conn, p peer.ID) (sec.SecureConn, error) {
	raw := t.socket(insecure)
	return raw.secured(attached(raw.Conn)(t.Transport.SecureInbound(ctx, raw, p)))
}

func (t *batchedTLS) SecureOutbound(ctx context.Context, insecure net.Conn, p peer.ID) (sec.SecureConn, error) {
	raw := t.socket(insecure)
	return raw.secured(attached(raw.Conn)(t.Transport.SecureOutbound(ctx, raw, p)))
}

// secured wraps the TLS connection made over c.
func (c *batchConn) secured(s sec.SecureConn, err error) (sec.SecureConn, error) {
	if err != nil {
		return nil, err
	}
	return &batchedConn{SecureConn: s, raw: c}, nil
}

// batchedConn is a TLS connection whose large writes reach the socket as
// one.
type batchedConn struct {
	sec.SecureConn
	raw *batchConn
	wmu sync.Mutex // one large write at a time (TLS writes one at a time anyway)
}

func (c *batchedConn) Write(p []byte) (int, error) {
	if len(p) < batchMin {
		return c.SecureConn.Write(p)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	done := 0
	for done < len(p) {
		c.raw.hold()
		n, err := c.SecureConn.Write(p[done:min(len(p), done+maxFrame)])
		if ferr := c.raw.release(); err == nil {
			err = ferr
		}
		if err != nil {
			return done, err
		}
		done += n
	}
	return done, nil
}

// batchConn is the socket under a batchedConn's TLS. While a large write
// is being encrypted it gathers everything TLS writes, in order, and
// sends it when the write is done. At other times TLS's writes, such as a
// reply to a key update, go straight to the socket.
type batchConn struct {
	net.Conn
	mu  sync.Mutex
	buf *[]byte // the gathered records while a large write is held, from batchPool
}

func (c *batchConn) hold() {
	c.mu.Lock()
	c.buf = batchPool.Get().(*[]byte)
	c.mu.Unlock()
}

// release ends a large write, sending what was gathered.
func (c *batchConn) release() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	if b := *c.buf; len(b) > 0 {
		_, err = c.Conn.Write(b)
		*c.buf = b[:0]
	}
	batchPool.Put(c.buf)
	c.buf = nil
	return err
}

func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buf == nil {
		return c.Conn.Write(p)
	}
	*c.buf = append(*c.buf, p...)
	return len(p), nil
}
