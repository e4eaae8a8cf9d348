package pollen

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/pollen-p2p/pollen/swarm"
)

// Reachability verdicts and connection kinds, re-exported.
type (
	// ReachKind names how peers can reach a node: public, behind a cone
	// or a symmetric NAT, private, unknown.
	ReachKind = swarm.ReachKind
	// ConnKind names how a connection came about: direct, relayed,
	// hole-punched.
	ConnKind = swarm.ConnKind
)

// Reachability verdicts.
const (
	ReachPublic    = swarm.ReachPublic
	ReachCone      = swarm.ReachCone
	ReachSymmetric = swarm.ReachSymmetric
	ReachPrivate   = swarm.ReachPrivate
	ReachUnknown   = swarm.ReachUnknown
)

// Connection kinds.
const (
	ConnDirect      = swarm.ConnDirect
	ConnRelayed     = swarm.ConnRelayed
	ConnHolePunched = swarm.ConnHolePunched
)

// Diagnosis is what Doctor found, in facts and in plain words: how
// peers reach this node and why, how the DHT fares, and for content,
// who holds it and whether a transfer of it can go well.
type Diagnosis struct {
	Node    NodeReach      `json:"node"`
	DHT     DHTHealth      `json:"dht"`
	Content *ContentHealth `json:"content,omitempty"`
}

// NodeReach is how peers can reach this node, and what says so.
type NodeReach struct {
	ID           string    `json:"id"`
	Reachability ReachKind `json:"reachability"`
	Summary      string    `json:"summary"`
	// Reasons are the facts behind the verdict, one a line.
	Reasons []string `json:"reasons"`
	// AutoNAT is AutoNAT v1's verdict on the node: public, private,
	// unknown.
	AutoNAT string `json:"autonat"`
	// Reachable and Unreachable are AutoNAT v2's verdicts, address by
	// address.
	Reachable   []string `json:"reachable"`
	Unreachable []string `json:"unreachable"`
	// NATTCP and NATUDP are the NAT's kind per transport: cone,
	// symmetric, unknown.
	NATTCP string `json:"nat_tcp"`
	NATUDP string `json:"nat_udp"`
	// RelayAddrs are this node's addresses through relays, and Relays
	// the peers it holds a reservation on.
	RelayAddrs   []string `json:"relay_addrs"`
	Relays       []string `json:"relays"`
	RelayService bool     `json:"relay_service"` // this node relays for others
	PortMapping  PortMap  `json:"port_mapping"`
	// Addrs are the addresses the node gives peers, each with its scope.
	Addrs []AddrScope `json:"addrs"`
	// InternetPeers counts the connected peers at public addresses: those
	// that could dial this node back.
	InternetPeers int `json:"internet_peers"`
}

// PortMap is what port mapping (UPnP, NAT-PMP) did.
type PortMap struct {
	On      bool          `json:"on"`      // off with Offline
	Gateway bool          `json:"gateway"` // a router answered
	Mapped  []MappedAddrs `json:"mapped"`
}

// MappedAddrs is one listen address and the public one the router gave
// it.
type MappedAddrs struct {
	Listen   string `json:"listen"`
	External string `json:"external"`
}

// AddrScope is one of the node's addresses: public, private, loopback
// or relay, and whether the router mapped it.
type AddrScope struct {
	Addr   string `json:"addr"`
	Scope  string `json:"scope"`
	Mapped bool   `json:"mapped,omitempty"`
}

// DHTHealth is how the DHT fares.
type DHTHealth struct {
	On           bool          `json:"on"`
	Server       bool          `json:"server"`        // answers others' queries
	RoutingTable int           `json:"routing_table"` // peers in it
	Lookup       *LookupResult `json:"lookup,omitempty"`
	Verdict      string        `json:"verdict"`
}

// LookupResult is a test lookup: the closest peers to a random key.
type LookupResult struct {
	Peers  int     `json:"peers"`
	Millis float64 `json:"ms"`
	Error  string  `json:"error,omitempty"`
}

// DoctorOptions tune Doctor.
type DoctorOptions struct {
	// Root is content to look for holders of; cid.Undef for none.
	Root cid.Cid
	// Name is Root's name, as a ticket gives it.
	Name string
	// From are the peers a ticket names: holders, "found in the ticket".
	From []peer.AddrInfo
	// Ticket says Root came in a ticket (whose peer may be missing).
	Ticket bool
	// Transfer is what a running get of Root has seen, if one runs.
	Transfer *TransferState
	// Wait is how long to wait, at most, for the node's reachability to
	// be known, which a node just started does not know (AutoNAT asks
	// peers to dial back after 15 s); 0 does not wait.
	Wait time.Duration
	// Timeout bounds each probe: the test lookup, the search for
	// providers, each holder's dial; 0 is DefaultDoctorTimeout.
	Timeout time.Duration
}

// DefaultDoctorTimeout bounds each probe of a diagnosis unless told
// otherwise: a DHT lookup on the public network takes a few seconds, a
// dial through a relay a few round trips.
const DefaultDoctorTimeout = 10 * time.Second

// TransferState is what a running get has seen, for Doctor to judge.
type TransferState struct {
	Done    int64 `json:"done"`
	Total   int64 `json:"total"`
	Stalled bool  `json:"stalled"` // nothing arrived for a while
	// Peers holds the block bytes each peer sent in this get.
	Peers map[peer.ID]int64 `json:"peers"`
}

// ErrOffline is returned by what needs the network before StartNetwork.
var ErrOffline = errors.New("the network is not started")

// Doctor diagnoses the node: reachability and its reasons, the DHT's
// health and, for o.Root, its holders (each dialled and pinged) and a
// verdict on a transfer of it. A running transfer's rates are measured
// over the diagnosis, which lasts at least rateSample then.
func (n *Node) Doctor(ctx context.Context, o DoctorOptions) (Diagnosis, error) {
	nw := n.online()
	if nw == nil {
		return Diagnosis{}, fmt.Errorf("doctor: %w", ErrOffline)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultDoctorTimeout
	}
	start := time.Now()
	before := nw.ex.Stats()
	var d Diagnosis
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		d.DHT = n.dhtHealth(ctx, nw, o.Timeout)
	}()
	if o.Root.Defined() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.Content = n.findHolders(ctx, nw, o)
		}()
	}
	n.waitReach(ctx, nw, start, o.Wait)
	wg.Wait()
	if d.Content != nil {
		n.refreshConns(nw, d.Content)
	}
	if o.Transfer != nil && d.Content != nil {
		if rest := rateSample - time.Since(start); rest > 0 {
			select {
			case <-time.After(rest):
			case <-ctx.Done():
			}
		}
		measureRates(d.Content, before, nw.ex.Stats(), time.Since(start))
	}
	d.Node = n.nodeReach(nw)
	if d.Content != nil {
		d.Content.Verdict, d.Content.Why = judgeContent(*d.Content, d.Node.Reachability, d.DHT.On)
		d.Content.Stuck = d.Content.Verdict.Stuck()
	}
	return d, ctx.Err()
}

// rateSample is the least time over which a running transfer's rates
// are measured: a second of a fast link holds a few blocks only.
const rateSample = 2 * time.Second

// lonelyAfter: once this long has passed with no peer on the internet
// connected, nobody can tell the node its reachability, and waiting
// longer is no use.
const lonelyAfter = 5 * time.Second

// waitReach waits, until wait has passed since start, for the node's
// reachability to be known, and for a NAT's kind when it is private.
func (n *Node) waitReach(ctx context.Context, nw *netState, start time.Time, wait time.Duration) {
	deadline := time.NewTimer(time.Until(start.Add(wait)))
	defer deadline.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		r, changed := nw.swarm.Reach()
		if k := r.Kind(); k != ReachUnknown && k != ReachPrivate {
			return
		}
		if time.Since(start) > lonelyAfter && internetPeers(nw) == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-deadline.C:
			return
		case <-changed:
		case <-tick.C: // peers come and go without a change of Reach
		}
	}
}

// internetPeers counts the connected peers at a public address: those
// that could dial this node back.
func internetPeers(nw *netState) int {
	seen := map[peer.ID]bool{}
	for _, c := range nw.swarm.Host.Network().Conns() {
		if manet.IsPublicAddr(c.RemoteMultiaddr()) {
			seen[c.RemotePeer()] = true
		}
	}
	return len(seen)
}

// nodeReach gathers how peers reach the node, with the reasons.
func (n *Node) nodeReach(nw *netState) NodeReach {
	r, _ := nw.swarm.Reach()
	nr := NodeReach{
		ID:            nw.swarm.Host.ID().String(),
		Reachability:  r.Kind(),
		Summary:       r.Summary(),
		AutoNAT:       strings.ToLower(r.Reachability.String()),
		Reachable:     addrStrings(r.Reachable),
		Unreachable:   addrStrings(r.Unreachable),
		NATTCP:        natName(r.NATTCP),
		NATUDP:        natName(r.NATUDP),
		RelayAddrs:    addrStrings(r.RelayAddrs),
		Relays:        []string{},
		RelayService:  n.cfg.RelayService != nil,
		InternetPeers: internetPeers(nw),
	}
	seen := map[peer.ID]bool{}
	for _, a := range r.RelayAddrs {
		if id := relayPeer(a); id != "" && !seen[id] {
			seen[id] = true
			nr.Relays = append(nr.Relays, id.String())
		}
	}
	pm := nw.swarm.PortMapping()
	nr.PortMapping = PortMap{On: pm.On, Gateway: pm.Gateway, Mapped: []MappedAddrs{}}
	mapped := map[string]bool{}
	for _, m := range pm.Mapped {
		nr.PortMapping.Mapped = append(nr.PortMapping.Mapped, MappedAddrs{Listen: m.Listen.String(), External: m.External.String()})
		mapped[m.External.String()] = true
	}
	nr.Addrs = []AddrScope{}
	for _, a := range ma.Unique(append(nw.swarm.Host.Addrs(), r.RelayAddrs...)) {
		nr.Addrs = append(nr.Addrs, AddrScope{Addr: a.String(), Scope: addrScope(a), Mapped: mapped[a.String()]})
	}
	nr.Reasons = reachReasons(nr)
	return nr
}

// addrScope names where an address can be dialled from.
func addrScope(a ma.Multiaddr) string {
	switch {
	case relayPeer(a) != "":
		return "relay"
	case manet.IsIPLoopback(a):
		return "loopback"
	case manet.IsPublicAddr(a):
		return "public"
	}
	return "private"
}

// relayPeer returns the relay of a circuit address, or "".
func relayPeer(a ma.Multiaddr) peer.ID {
	before, _ := ma.SplitFunc(a, func(c ma.Component) bool { return c.Code() == ma.P_CIRCUIT })
	if len(before) == len(a) {
		return ""
	}
	if info, err := peer.AddrInfoFromP2pAddr(before); err == nil {
		return info.ID
	}
	return ""
}

func addrStrings(as []ma.Multiaddr) []string {
	out := make([]string, 0, len(as))
	for _, a := range as {
		out = append(out, a.String())
	}
	return out
}

// dhtHealth reads the routing table and runs a test lookup.
func (n *Node) dhtHealth(ctx context.Context, nw *netState, timeout time.Duration) DHTHealth {
	if !nw.swarm.DHT().On {
		return DHTHealth{Verdict: judgeDHT(DHTHealth{})}
	}
	lctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// A node just started fills its routing table as it meets the
	// bootstrap peers: a lookup before that fails at once, and says
	// nothing of the DHT.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for nw.swarm.DHT().Peers == 0 && lctx.Err() == nil {
		select {
		case <-lctx.Done():
		case <-tick.C:
		}
	}
	begin := time.Now()
	peers, err := nw.swarm.LookupTest(lctx)
	h := DHTHealth{Lookup: &LookupResult{Peers: len(peers), Millis: millis(time.Since(begin))}}
	if err != nil {
		h.Lookup.Error = err.Error()
	}
	st := nw.swarm.DHT()
	h.On, h.Server, h.RoutingTable = st.On, st.Server, st.Peers
	h.Verdict = judgeDHT(h)
	return h
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
