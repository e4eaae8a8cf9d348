package swarm

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	ma "github.com/multiformats/go-multiaddr"
)

// Hole punching (DCUtR) starts on the side that a relayed connection
// reaches: it asks the dialler to punch at once, and gives up at the
// first refusal. go-libp2p serves the protocol only once the node knows
// a public address of its own (a peer on the internet told it, through
// identify), which a getter just started does not: the sharer would ask
// too early and the transfer stay on the relay. So before dialling a
// peer through a relay, the dialler connects to the relay itself (it
// learns its public address there) and waits, briefly, until it can
// answer.

// punchReadyWait bounds that wait: go-libp2p looks for a public address
// at 0.25, 0.75, 1.75, 3.75 and 8.75 s.
const punchReadyWait = 4 * time.Second

// punchReadyTick is how often the wait looks.
const punchReadyTick = 50 * time.Millisecond

// readyToPunch prepares a dial of p through a relay, as above; it does
// nothing for a peer with no relayed address or already connected
// directly. A peer reached through a relay before this node could answer
// (its DHT, say, dialled it first) has been refused its one try: once
// this node can answer, that connection is closed unless a hole was
// punched meanwhile, and the dial that follows makes another, which the
// peer tries again on.
func (s *Swarm) readyToPunch(ctx context.Context, p peer.AddrInfo) {
	nw := s.Host.Network()
	// relayedOnly reports whether p is reached, and only through relays.
	relayedOnly := func() bool {
		conns := nw.ConnsToPeer(p.ID)
		for _, c := range conns {
			if !isRelayed(c.RemoteMultiaddr()) {
				return false
			}
		}
		return len(conns) > 0
	}
	if len(nw.ConnsToPeer(p.ID)) > 0 && !relayedOnly() {
		return
	}
	var relays []peer.AddrInfo
	for _, a := range p.Addrs {
		before, _ := ma.SplitFunc(a, func(c ma.Component) bool { return c.Code() == ma.P_CIRCUIT })
		if len(before) == len(a) {
			continue // not through a relay
		}
		if r, err := peer.AddrInfoFromP2pAddr(before); err == nil && r.ID != s.Host.ID() {
			relays = append(relays, *r)
		}
	}
	ready := func() bool { return slices.Contains(s.Host.Mux().Protocols(), holepunch.Protocol) }
	if ready() || (len(relays) == 0 && !relayedOnly()) {
		return
	}
	for _, r := range relays {
		if nw.Connectedness(r.ID) != network.Connected {
			s.Host.Connect(ctx, r) // a failure is the dial's to report
		}
	}
	wctx, cancel := context.WithTimeout(ctx, punchReadyWait)
	defer cancel()
	t := time.NewTicker(punchReadyTick)
	defer t.Stop()
	for !ready() {
		select {
		case <-wctx.Done():
			s.log.Debug("dialling through a relay before hole punching is ready", "peer", p.ID)
			return
		case <-t.C:
		}
	}
	// Reached through a relay before this node could answer (its DHT
	// dialled first, say): the peer's one try was refused, so the
	// connection goes, and the dial after makes one the peer tries again
	// on.
	readyAt := time.Now()
	if !relayedOnly() {
		return
	}
	conns := nw.ConnsToPeer(p.ID)
	for _, c := range conns {
		if c.Stat().Opened.After(readyAt.Add(-punchReadyTick)) {
			return // it may have asked once this node could answer
		}
	}
	for _, c := range conns {
		if isRelayed(c.RemoteMultiaddr()) { // a direct one made meanwhile stays
			c.Close()
		}
	}
}

// ConnKind says how a connection to a peer came about.
type ConnKind string

const (
	// ConnDirect: dialled (or accepted) directly.
	ConnDirect ConnKind = "direct"
	// ConnRelayed: through a relay.
	ConnRelayed ConnKind = "relayed"
	// ConnHolePunched: direct, after a hole was punched through the NATs
	// of a peer first reached through a relay.
	ConnHolePunched ConnKind = "hole-punched"
)

// punchTook bounds how long a hole punch takes, from the direct dial it
// makes to the event that says it succeeded (go-libp2p tries three times,
// seconds apart).
const punchTook = 30 * time.Second

// maxPunched bounds the peers remembered as punched to; past it, those
// no longer connected are forgotten.
const maxPunched = 1024

// punched remembers the peers a hole was punched to, from go-libp2p's
// hole punching events (it is their EventTracer), so that a direct
// connection can be named for how it came about.
type punched struct {
	mu    sync.Mutex
	peers map[peer.ID]time.Time
	s     *Swarm
}

// Trace records a successful hole punch.
func (p *punched) Trace(ev *holepunch.Event) {
	end, ok := ev.Evt.(*holepunch.EndHolePunchEvt)
	if !ok || !end.Success {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.peers == nil {
		p.peers = map[peer.ID]time.Time{}
	}
	if len(p.peers) >= maxPunched {
		for id := range p.peers {
			if p.s.Host.Network().Connectedness(id) != network.Connected {
				delete(p.peers, id)
			}
		}
	}
	if len(p.peers) < maxPunched {
		p.peers[ev.Remote] = time.Now()
	}
}

// ConnKind names how c came about: through a relay, directly after a
// hole was punched to its peer, or directly.
func (s *Swarm) ConnKind(c network.Conn) ConnKind {
	if c.Stat().Limited || isRelayed(c.RemoteMultiaddr()) {
		return ConnRelayed
	}
	s.punched.mu.Lock()
	at, ok := s.punched.peers[c.RemotePeer()]
	s.punched.mu.Unlock()
	// A connection opened well before the punch ended is not the one it
	// made.
	if ok && !c.Stat().Opened.Before(at.Add(-punchTook)) {
		return ConnHolePunched
	}
	return ConnDirect
}

// isRelayed reports whether a goes through a relay.
func isRelayed(a ma.Multiaddr) bool {
	for _, c := range a {
		if c.Code() == ma.P_CIRCUIT {
			return true
		}
	}
	return false
}
