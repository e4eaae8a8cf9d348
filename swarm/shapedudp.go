package swarm

import (
	"net"
	"net/netip"

	"github.com/libp2p/go-libp2p/core/network"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/quic-go/quic-go"
	"golang.org/x/net/ipv4"
)

// shapedUDP is the UDP socket QUIC runs on, shaped. It keeps what quic-go
// looks for to take its fast path (quic.OOBCapablePacketConn, and
// ReadBatch): batched reads, GSO and ECN. A plain net.PacketConn wrapper
// hides them, and quic-go then makes a system call a packet.
type shapedUDP struct {
	*net.UDPConn
	s     *shaper
	batch *ipv4.PacketConn // the socket's recvmmsg
}

func newShapedUDP(c *net.UDPConn, s *shaper) *shapedUDP {
	return &shapedUDP{UDPConn: c, s: s, batch: ipv4.NewPacketConn(c)}
}

// ReadBatch is what quic-go reads with.
func (c *shapedUDP) ReadBatch(ms []ipv4.Message, flags int) (int, error) {
	n, err := c.batch.ReadBatch(ms, flags)
	got := 0
	for i := range n {
		got += ms[i].N
	}
	c.read(got)
	return n, err
}

func (c *shapedUDP) ReadMsgUDP(b, oob []byte) (int, int, int, *net.UDPAddr, error) {
	n, oobn, flags, addr, err := c.UDPConn.ReadMsgUDP(b, oob)
	c.read(n)
	return n, oobn, flags, addr, err
}

func (c *shapedUDP) ReadFrom(p []byte) (int, net.Addr, error) {
	n, addr, err := c.UDPConn.ReadFrom(p)
	c.read(n)
	return n, addr, err
}

func (c *shapedUDP) read(n int) {
	c.s.received.Add(int64(n))
	c.s.down.wait(n)
}

// WriteMsgUDP is what quic-go writes with; with GSO, b holds several
// packets, all counted.
func (c *shapedUDP) WriteMsgUDP(b, oob []byte, addr *net.UDPAddr) (int, int, error) {
	c.s.waitUp(c.s.peerAt(addr), len(b))
	n, oobn, err := c.UDPConn.WriteMsgUDP(b, oob, addr)
	c.s.sent.Add(int64(n))
	return n, oobn, err
}

func (c *shapedUDP) WriteTo(p []byte, addr net.Addr) (int, error) {
	ua, _ := addr.(*net.UDPAddr)
	c.s.waitUp(c.s.peerAt(ua), len(p))
	n, err := c.UDPConn.WriteTo(p, addr)
	c.s.sent.Add(int64(n))
	return n, err
}

// quicConn is a QUIC connection's remote address and its peer's bucket.
type quicConn struct {
	at netip.AddrPort
	pb *peerBucket
}

// peerAt is the bucket of the peer at a remote address, when a per-peer
// cap is on and a QUIC connection to it is known.
func (s *shaper) peerAt(addr *net.UDPAddr) *peerBucket {
	if addr == nil || !s.overflow.on.Load() { // the overflow is on when PeerUp is
		return nil
	}
	return (*s.udp.Load())[udpKey(addr.AddrPort())]
}

func udpKey(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// quicAddr is the remote UDP address of a direct QUIC connection.
func quicAddr(c network.Conn) (netip.AddrPort, bool) {
	var ip netip.Addr
	var port uint16
	quic := false
	for _, comp := range c.RemoteMultiaddr() {
		switch comp.Protocol().Code {
		case ma.P_IP4, ma.P_IP6:
			ip, _ = netip.AddrFromSlice(comp.RawValue())
		case ma.P_UDP:
			b := comp.RawValue()
			if len(b) == 2 {
				port = uint16(b[0])<<8 | uint16(b[1])
			}
		case ma.P_QUIC_V1:
			quic = true
		case ma.P_CIRCUIT:
			return netip.AddrPort{}, false // its packets go to the relay
		}
	}
	if !quic || !ip.IsValid() {
		return netip.AddrPort{}, false
	}
	return udpKey(netip.AddrPortFrom(ip, port)), true
}

// shaperNotifiee tells the shaper of QUIC connections as they open and
// close: a TCP connection's socket learns its peer in the handshake, a
// QUIC one's shares one socket with every other.
type shaperNotifiee struct {
	network.NoopNotifiee
	s *shaper
}

func (n *shaperNotifiee) Connected(_ network.Network, c network.Conn) {
	at, ok := quicAddr(c)
	if !ok {
		return
	}
	pb := n.s.acquire(c.RemotePeer())
	n.s.mu.Lock()
	defer n.s.mu.Unlock()
	n.s.quic[c] = quicConn{at, pb}
	n.s.publishUDP()
}

func (n *shaperNotifiee) Disconnected(_ network.Network, c network.Conn) {
	n.s.mu.Lock()
	qc, ok := n.s.quic[c]
	delete(n.s.quic, c)
	if ok {
		n.s.publishUDP()
	}
	n.s.mu.Unlock()
	if ok {
		n.s.release(c.RemotePeer(), qc.pb)
	}
}

// publishUDP makes the address map the sockets read anew; s.mu is held.
func (s *shaper) publishUDP() {
	m := make(map[netip.AddrPort]*peerBucket, len(s.quic))
	for _, qc := range s.quic {
		m[qc.at] = qc.pb
	}
	s.udp.Store(&m)
}

// quic-go takes its fast path only with these.
var (
	_ quic.OOBCapablePacketConn = (*shapedUDP)(nil)
	_ interface {
		ReadBatch([]ipv4.Message, int) (int, error)
	} = (*shapedUDP)(nil)
)
