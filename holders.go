package pollen

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// ContentHealth is what Doctor found of some content: who holds it, how
// each holder was found and is reached, and a verdict on a transfer.
type ContentHealth struct {
	Root   string `json:"root"`
	Name   string `json:"name,omitempty"`
	Ticket bool   `json:"ticket"` // it came in a ticket
	// Here says every block is in the local store.
	Here    bool     `json:"here"`
	Holders []Holder `json:"holders"`
	// DHT is what the search for providers gave: how many, or why none.
	DHT      string         `json:"dht"`
	Transfer *TransferState `json:"transfer,omitempty"`
	Verdict  ContentVerdict `json:"verdict"`
	Why      string         `json:"why"`
	// Stuck says no transfer can make progress: no holder reachable.
	Stuck bool `json:"stuck"`
}

// Holder is a peer that holds (or says it holds) the content.
type Holder struct {
	ID   string `json:"id"`
	Self bool   `json:"self,omitempty"` // this node
	// Found says how: "ticket", "dht" (a provider record), "transfer" (it
	// sends blocks to a running get).
	Found     []string `json:"found"`
	Addrs     []string `json:"addrs"`
	Connected bool     `json:"connected"`
	// Conn is the best connection to it: direct, hole-punched, relayed.
	Conn ConnKind `json:"conn,omitempty"`
	Via  string   `json:"via,omitempty"` // the relay's peer ID, when relayed
	RTT  float64  `json:"rtt_ms,omitempty"`
	// Received is what it sent in the running get; Rate, in bytes a
	// second, what it sent while the doctor watched.
	Received int64   `json:"received,omitempty"`
	Rate     float64 `json:"rate,omitempty"`
	Error    string  `json:"error,omitempty"` // why it could not be reached
}

// How a holder was found.
const (
	foundTicket   = "ticket"
	foundDHT      = "dht"
	foundTransfer = "transfer"
)

// maxProviders bounds the DHT providers a diagnosis dials: enough to
// judge, few enough to dial at once.
const maxProviders = 20

// punchWait is how long a holder reached through a relay is given to
// be reached directly too (DCUtR punches a hole within a second or two
// of the relayed connection, when it can).
const punchWait = 5 * time.Second

// pingTimeout bounds the pings of a holder once it is connected: three
// round trips, through a relay on another continent at worst.
const pingTimeout = 5 * time.Second

// findHolders gathers the holders of o.Root (the ticket's peers, the
// running transfer's, the DHT's providers), dialling and pinging each.
func (n *Node) findHolders(ctx context.Context, nw *netState, o DoctorOptions) *ContentHealth {
	c := &ContentHealth{Root: o.Root.String(), Name: o.Name, Ticket: o.Ticket, Holders: []Holder{}, Transfer: o.Transfer}
	hctx, cancel := context.WithTimeout(ctx, o.Timeout)
	c.Here = n.ensureLocal(hctx, o.Root) == nil
	cancel()

	var mu sync.Mutex
	var wg sync.WaitGroup
	byID := map[peer.ID]*Holder{}
	// add records a holder and probes it the first time it is seen.
	add := func(p peer.AddrInfo, how string) {
		mu.Lock()
		defer mu.Unlock()
		h := byID[p.ID]
		if h == nil {
			h = &Holder{ID: p.ID.String(), Addrs: addrStrings(p.Addrs)}
			byID[p.ID] = h
			wg.Add(1)
			go func() {
				defer wg.Done()
				probed := n.probeHolder(ctx, nw, p, o.Timeout)
				mu.Lock()
				probed.Found, probed.Addrs = h.Found, h.Addrs
				*h = probed
				mu.Unlock()
			}()
		}
		if !slices.Contains(h.Found, how) {
			h.Found = append(h.Found, how)
		}
	}
	for _, p := range o.From {
		add(p, foundTicket)
	}
	if o.Transfer != nil {
		for id := range o.Transfer.Peers {
			add(nw.swarm.Host.Peerstore().PeerInfo(id), foundTransfer)
		}
	}
	c.DHT = n.searchProviders(ctx, nw, o, func(p peer.AddrInfo) { add(p, foundDHT) })
	wg.Wait()
	for id, h := range byID {
		if o.Transfer != nil {
			h.Received = o.Transfer.Peers[id]
		}
		c.Holders = append(c.Holders, *h)
	}
	slices.SortFunc(c.Holders, func(a, b Holder) int {
		switch {
		case a.Self != b.Self: // this node first, then the ticket's, then by ID
			if a.Self {
				return -1
			}
			return 1
		case slices.Contains(a.Found, foundTicket) != slices.Contains(b.Found, foundTicket):
			if slices.Contains(a.Found, foundTicket) {
				return -1
			}
			return 1
		}
		return strings.Compare(a.ID, b.ID)
	})
	return c
}

// searchProviders asks the DHT for providers of o.Root, calling found
// for each, and says what it gave.
func (n *Node) searchProviders(ctx context.Context, nw *netState, o DoctorOptions, found func(peer.AddrInfo)) string {
	if nw.swarm.Routing == nil {
		return "not asked: the DHT is off"
	}
	pctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	count := 0
	for p := range nw.swarm.Routing.FindProvidersAsync(pctx, o.Root, maxProviders) {
		count++
		found(p)
	}
	switch {
	case count > 0:
		return fmt.Sprintf("%d %s", count, plural(count, "provider", "providers"))
	case ctx.Err() != nil:
		return "not searched: " + ctx.Err().Error()
	case pctx.Err() != nil:
		return "no provider found within " + o.Timeout.String()
	}
	return "no provider found"
}

// probeHolder dials p (within timeout, through its relay if that is
// all it gives), then names the connection and pings it.
func (n *Node) probeHolder(ctx context.Context, nw *netState, p peer.AddrInfo, timeout time.Duration) Holder {
	h := Holder{ID: p.ID.String()}
	if p.ID == nw.swarm.Host.ID() {
		h.Self, h.Connected = true, true
		return h
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if nw.swarm.Host.Network().Connectedness(p.ID) != network.Connected {
		if len(p.Addrs) == 0 && len(nw.swarm.Host.Peerstore().Addrs(p.ID)) == 0 {
			// A provider record may come without addresses: ask the DHT.
			if found, err := nw.swarm.FindPeer(dctx, p.ID); err == nil {
				p = found
			}
		}
		if err := nw.swarm.Connect(dctx, p); err != nil {
			h.Error = dialError(err)
			return h
		}
	}
	h.Conn, h.Via = n.bestConn(nw, p.ID)
	if h.Conn == ConnRelayed {
		h.Conn, h.Via = n.awaitPunch(ctx, nw, p.ID)
	}
	if h.Connected = h.Conn != ""; !h.Connected {
		h.Error = "connected, then the connection closed"
		return h
	}
	rctx, rcancel := context.WithTimeout(ctx, pingTimeout)
	defer rcancel()
	if rtt, err := nw.swarm.RTT(rctx, p.ID); err == nil {
		h.RTT = millis(rtt)
	} else if h.Error == "" {
		h.Error = "ping: " + err.Error()
	}
	return h
}

// awaitPunch gives hole punching its moment, punchWait at most, for a
// peer reached through a relay (the relayed connection is the one it
// starts from), and names the best connection then.
func (n *Node) awaitPunch(ctx context.Context, nw *netState, p peer.ID) (ConnKind, string) {
	ctx, cancel := context.WithTimeout(ctx, punchWait)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return n.bestConn(nw, p)
		case <-tick.C:
			if kind, via := n.bestConn(nw, p); kind != ConnRelayed {
				return kind, via
			}
		}
	}
}

// bestConn names the best connection to p (direct or hole-punched over
// relayed) and, when relayed, the relay's address.
func (n *Node) bestConn(nw *netState, p peer.ID) (ConnKind, string) {
	var kind ConnKind
	via := ""
	for _, c := range nw.swarm.Host.Network().ConnsToPeer(p) {
		switch k := nw.swarm.ConnKind(c); {
		case k == ConnHolePunched:
			return k, ""
		case k == ConnDirect:
			kind = k
		case kind == "":
			kind = k
			if r := relayPeer(c.RemoteMultiaddr()); r != "" {
				via = r.String()
			}
		}
	}
	if kind != ConnRelayed {
		via = ""
	}
	return kind, via
}

// refreshConns names each holder's connection again at the end of a
// diagnosis: a hole may have been punched, or a connection lost, while
// the node waited to learn its reachability.
func (n *Node) refreshConns(nw *netState, c *ContentHealth) {
	for i, h := range c.Holders {
		id, err := peer.Decode(h.ID)
		if err != nil || h.Self || !h.Connected {
			continue
		}
		c.Holders[i].Conn, c.Holders[i].Via = n.bestConn(nw, id)
		c.Holders[i].Connected = c.Holders[i].Conn != ""
	}
}

// measureRates sets each holder's rate: the block bytes it sent between
// two snapshots of the traffic, took apart.
func measureRates(c *ContentHealth, before, after map[peer.ID]PeerStats, took time.Duration) {
	if took <= 0 {
		return
	}
	for i := range c.Holders {
		id, err := peer.Decode(c.Holders[i].ID)
		if err != nil {
			continue
		}
		if d := after[id].Received - before[id].Received; d > 0 {
			c.Holders[i].Rate = float64(d) / took.Seconds()
		}
	}
}
