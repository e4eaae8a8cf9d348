package exchange

import (
	"bufio"
	"container/list"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"
)

// Peer exchange, as BitTorrent's PEX: a getter asks each pollen peer it
// meets who else holds the root it fetches, and dials them. A ticket
// names one sharer; once others fetched from it, a getter who reaches
// any of them finds the rest, with or without a DHT, and the ticket keeps
// working after the sharer leaves as long as the getter reaches one
// holder (the DHT's provider records find the first).
//
// ProtoPeers: the getter sends a root CID (uvarint length, bytes); the
// server answers a uvarint count of peers, each as its ID (uvarint
// length, bytes) and a uvarint count of addresses (each uvarint length,
// bytes), then closes the stream.
//
// A node counts as holding a root the peers that asked it for the root's
// holders (they fetch it, and pollen getters serve what they fetch) and
// the peers it fetched the root from.
const (
	ProtoPeers = protocol.ID("/pollen/peers/1.0.0")

	maxPexPeers   = 32  // peers in one answer
	maxPexAddrs   = 8   // addresses of one peer
	maxAddrLen    = 512 // bytes of one binary multiaddr
	maxPeerIDLen  = 128
	maxPexRoots   = 1024 // roots whose holders a node remembers
	pexDials      = 4    // dials at once to peers an answer named
	pexDialsTotal = 64   // peers one download dials from answers
	pexDialTime   = 15 * time.Second
)

// writePeers writes an answer of ProtoPeers.
func writePeers(w *bufio.Writer, ps []peer.AddrInfo) error {
	var buf [binary.MaxVarintLen64]byte
	field := func(b []byte) {
		w.Write(binary.AppendUvarint(buf[:0], uint64(len(b))))
		w.Write(b)
	}
	if len(ps) > maxPexPeers {
		ps = ps[:maxPexPeers]
	}
	w.Write(binary.AppendUvarint(buf[:0], uint64(len(ps))))
	for _, p := range ps {
		field([]byte(p.ID))
		addrs := p.Addrs
		if len(addrs) > maxPexAddrs {
			addrs = addrs[:maxPexAddrs]
		}
		w.Write(binary.AppendUvarint(buf[:0], uint64(len(addrs))))
		for _, a := range addrs {
			field(a.Bytes())
		}
	}
	return w.Flush()
}

// readPeers reads an answer of ProtoPeers, refusing more than its bounds.
func readPeers(r *bufio.Reader) ([]peer.AddrInfo, error) {
	n, err := readUvarint(r, maxPexPeers)
	if err != nil {
		return nil, err
	}
	out := make([]peer.AddrInfo, 0, n)
	for range n {
		id, err := readField(r, maxPeerIDLen)
		if err != nil {
			return nil, err
		}
		p := peer.AddrInfo{ID: peer.ID(id)}
		if err := p.ID.Validate(); err != nil {
			return nil, fmt.Errorf("%w: bad peer ID: %v", errProtocol, err)
		}
		k, err := readUvarint(r, maxPexAddrs)
		if err != nil {
			return nil, err
		}
		for range k {
			b, err := readField(r, maxAddrLen)
			if err != nil {
				return nil, err
			}
			a, err := ma.NewMultiaddrBytes(b)
			if err != nil {
				return nil, fmt.Errorf("%w: bad address: %v", errProtocol, err)
			}
			p.Addrs = append(p.Addrs, a)
		}
		out = append(out, p)
	}
	return out, nil
}

// readUvarint reads a uvarint no larger than max.
func readUvarint(r *bufio.Reader, max uint64) (uint64, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return 0, err
	}
	if n > max {
		return 0, fmt.Errorf("%w: %d is over %d", errProtocol, n, max)
	}
	return n, nil
}

// readField reads a uvarint length, at most max, and that many bytes.
func readField(r *bufio.Reader, max uint64) ([]byte, error) {
	n, err := readUvarint(r, max)
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}

// holders remembers, for the most recent roots, the peers that hold each
// (the most recent maxPexPeers of them).
type holders struct {
	mu    sync.Mutex
	roots map[string]*list.Element // multihash → element of order
	order list.List                // of *rootHolders, most recent first
}

type rootHolders struct {
	root  string
	peers []peer.ID // most recent last
}

// add records that p holds root.
func (h *holders) add(root cid.Cid, p peer.ID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	key := string(root.Hash())
	if h.roots == nil {
		h.roots = map[string]*list.Element{}
	}
	el, ok := h.roots[key]
	if !ok {
		if h.order.Len() >= maxPexRoots {
			old := h.order.Back()
			delete(h.roots, old.Value.(*rootHolders).root)
			h.order.Remove(old)
		}
		el = h.order.PushFront(&rootHolders{root: key})
		h.roots[key] = el
	}
	h.order.MoveToFront(el)
	rh := el.Value.(*rootHolders)
	for i, q := range rh.peers {
		if q == p {
			rh.peers = append(rh.peers[:i], rh.peers[i+1:]...)
			break
		}
	}
	if len(rh.peers) >= maxPexPeers {
		rh.peers = rh.peers[1:]
	}
	rh.peers = append(rh.peers, p)
}

// of returns the peers recorded for root, most recent first.
func (h *holders) of(root cid.Cid) []peer.ID {
	h.mu.Lock()
	defer h.mu.Unlock()
	el, ok := h.roots[string(root.Hash())]
	if !ok {
		return nil
	}
	ps := el.Value.(*rootHolders).peers
	out := make([]peer.ID, 0, len(ps))
	for i := len(ps) - 1; i >= 0; i-- {
		out = append(out, ps[i])
	}
	return out
}

// servePeers answers one ProtoPeers request: the holders of the root this
// node knows, with the addresses it knows them by, but the asker.
func (e *Exchange) servePeers(s network.Stream) {
	defer s.Close()
	s.SetDeadline(time.Now().Add(ioTimeout))
	asker := s.Conn().RemotePeer()
	b, err := readField(bufio.NewReader(s), maxCIDLen)
	if err != nil {
		s.Reset()
		return
	}
	root, err := cid.Cast(b)
	if err != nil {
		s.Reset()
		return
	}
	if !e.serves(asker, root) { // a private root: its holders are its secret
		writePeers(bufio.NewWriter(s), nil)
		return
	}
	var out []peer.AddrInfo
	for _, p := range e.pex.of(root) {
		if p == asker || p == e.h.ID() {
			continue
		}
		if info := e.h.Peerstore().PeerInfo(p); len(info.Addrs) > 0 {
			out = append(out, info)
		}
	}
	// It fetches root, and will serve it; only a root this node holds, or
	// knows holders of, is counted, so a stranger naming random roots
	// cannot push the real ones out.
	if ok, _ := e.store.Has(e.ctx, root); ok || len(e.pex.of(root)) > 0 {
		e.pex.add(root, asker)
	}
	if err := writePeers(bufio.NewWriter(s), out); err != nil {
		s.Reset()
	}
}

// askPeers asks p for the holders of root.
func (e *Exchange) askPeers(ctx context.Context, p peer.ID, root cid.Cid) ([]peer.AddrInfo, error) {
	ctx = network.WithAllowLimitedConn(ctx, "peer exchange goes where transfers go")
	s, err := e.h.NewStream(ctx, p, ProtoPeers)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	// A silent peer is left when the download ends, not a minute later.
	defer context.AfterFunc(ctx, func() { s.Reset() })()
	s.SetDeadline(time.Now().Add(ioTimeout))
	w := bufio.NewWriter(s)
	var buf [binary.MaxVarintLen64]byte
	w.Write(binary.AppendUvarint(buf[:0], uint64(len(root.Bytes()))))
	w.Write(root.Bytes())
	if err := w.Flush(); err != nil {
		s.Reset()
		return nil, err
	}
	s.CloseWrite()
	ps, err := readPeers(bufio.NewReader(s))
	if err != nil {
		s.Reset()
	}
	return ps, err
}

// exchangePeers runs beside a download of root until ctx ends: it asks
// every pollen peer it is connected to, once, who else holds root, and
// dials those it is not connected to (they join the download as any
// pollen peer does, when identify says what they speak).
func (d *download) exchangePeers(ctx context.Context, root cid.Cid) {
	e := d.e
	var wg sync.WaitGroup
	defer wg.Wait() // after the subscription is closed: the bus waits on it
	sub, err := e.h.EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted))
	if err != nil {
		return
	}
	defer sub.Close()
	var (
		mu      sync.Mutex
		asked   = map[peer.ID]bool{}
		dialled = map[peer.ID]bool{e.h.ID(): true}
	)
	dials := make(chan struct{}, pexDials)
	// dial connects to q, unless it was dialled or is connected.
	dial := func(q peer.AddrInfo) {
		mu.Lock()
		skip := dialled[q.ID] || len(dialled) > pexDialsTotal || e.h.Network().Connectedness(q.ID) == network.Connected
		dialled[q.ID] = true
		mu.Unlock()
		if skip {
			return
		}
		select {
		case dials <- struct{}{}:
		case <-ctx.Done():
			return
		}
		defer func() { <-dials }()
		dctx, cancel := context.WithTimeout(ctx, pexDialTime)
		defer cancel()
		if err := e.h.Connect(dctx, q); err != nil {
			e.log.Debug("peer exchange: dial", "peer", q.ID, "err", err)
		}
	}
	// ask asks p once, in a goroutine of its own: a slow peer holds up
	// no other.
	ask := func(p peer.ID) {
		if ok, _ := e.h.Peerstore().SupportsProtocols(p, ProtoPeers); len(ok) == 0 {
			return
		}
		mu.Lock()
		again := asked[p]
		asked[p] = true
		mu.Unlock()
		if again {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if d.o.Secret != nil && d.admit(ctx, p) != nil {
				return // a private share's root is named to its holders only
			}
			found, err := e.askPeers(ctx, p, root)
			if err != nil {
				e.log.Debug("peer exchange", "peer", p, "err", err)
				return
			}
			for _, q := range found {
				wg.Add(1)
				go func() {
					defer wg.Done()
					dial(q)
				}()
			}
		}()
	}
	for _, p := range e.h.Network().Peers() {
		ask(p)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-sub.Out():
			ask(ev.(event.EvtPeerIdentificationCompleted).Peer)
		}
	}
}
