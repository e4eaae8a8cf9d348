package pollen

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/dustin/go-humanize"
	"github.com/libp2p/go-libp2p/core/network"
)

// The doctor's judgments, kept apart from the probing so that each can
// be table-tested without a network: what the facts gathered mean, and
// why, in plain words.

// ContentVerdict is the doctor's word on how a transfer of some content
// goes, or would go.
type ContentVerdict string

const (
	// VerdictHere: every block is in the local store.
	VerdictHere ContentVerdict = "here"
	// VerdictOK: a holder is reachable directly.
	VerdictOK ContentVerdict = "ok"
	// VerdictNoHolders: nobody is known to hold it (stuck).
	VerdictNoHolders ContentVerdict = "no-holders"
	// VerdictUnreachable: holders are known, none could be reached
	// (stuck).
	VerdictUnreachable ContentVerdict = "unreachable"
	// VerdictRelayedOnly: every reachable holder is reached through a
	// relay (slow: the relay's link is the transfer's).
	VerdictRelayedOnly ContentVerdict = "relayed-only"
	// VerdictSlowPeer: a running transfer has one peer far slower than
	// the others.
	VerdictSlowPeer ContentVerdict = "slow-peer"
	// VerdictStalled: a running transfer gets nothing, though holders
	// are connected.
	VerdictStalled ContentVerdict = "stalled"
)

// Stuck reports whether no transfer can make progress: nobody to fetch
// from.
func (v ContentVerdict) Stuck() bool { return v == VerdictNoHolders || v == VerdictUnreachable }

// slowPeerFactor: a peer that sends at under this fraction of the
// median rate of the others is the slow one. Rarest first gives a slow
// peer less to do, so only a wide gap is worth naming.
const slowPeerFactor = 4

// judgeContent says how a transfer of c goes (c.Transfer set) or would
// go, and why; self is this node's reachability, dhtOn whether the DHT
// was asked.
func judgeContent(c ContentHealth, self ReachKind, dhtOn bool) (ContentVerdict, string) {
	if c.Here && c.Transfer == nil {
		return VerdictHere, "every block is in this node's store: nothing to fetch"
	}
	if len(c.Holders) == 0 {
		why := "no holder found: "
		switch {
		case dhtOn && c.Ticket:
			why += "the ticket names no peer and no peer announced it on the DHT"
		case dhtOn:
			why += "no peer announced it on the DHT"
		case c.Ticket:
			why += "the ticket names no peer, and the DHT is off (--offline)"
		default:
			why += "a bare CID with the DHT off (--offline) can only be found on the LAN or with --from"
		}
		return VerdictNoHolders, why
	}
	var reachable, relayed []Holder
	for _, h := range c.Holders {
		if h.Self || h.Connected {
			reachable = append(reachable, h)
		}
		if h.Conn == ConnRelayed {
			relayed = append(relayed, h)
		}
	}
	if len(reachable) == 0 {
		why := fmt.Sprintf("%d %s found, none could be reached", len(c.Holders), plural(len(c.Holders), "holder", "holders"))
		if e := c.Holders[0].Error; e != "" {
			why += ": " + e
		}
		return VerdictUnreachable, why
	}
	if t := c.Transfer; t != nil {
		if t.Stalled {
			return VerdictStalled, fmt.Sprintf("nothing arrives though %d %s connected: %s may not have the blocks still missing",
				len(reachable), plural(len(reachable), "holder is", "holders are"), plural(len(reachable), "it", "they"))
		}
		if slow, others, ok := slowPeer(c.Holders); ok {
			return VerdictSlowPeer, fmt.Sprintf("one slow peer: %s sends %s/s, the others %s/s (median); the others take on more of the transfer",
				slow.ID, humanize.IBytes(uint64(slow.Rate)), humanize.IBytes(uint64(others)))
		}
	}
	if len(relayed) == len(reachable) {
		why := "every reachable holder is reached only through a relay: a transfer runs at the relay's speed"
		switch self {
		case ReachSymmetric:
			why += "; this node is behind a symmetric NAT, so no hole can be punched"
		case ReachCone, ReachPrivate:
			why += "; no hole was punched yet (one is, in seconds, unless the holder's NAT is symmetric)"
		}
		return VerdictRelayedOnly, why
	}
	direct := len(reachable) - len(relayed)
	return VerdictOK, fmt.Sprintf("%d %s reachable directly", direct, plural(direct, "holder", "holders"))
}

// slowPeer finds the one holder sending far slower than the others'
// median, among those that sent something while the doctor watched.
func slowPeer(hs []Holder) (Holder, float64, bool) {
	var senders []Holder
	for _, h := range hs {
		if h.Rate > 0 {
			senders = append(senders, h)
		}
	}
	if len(senders) < 2 {
		return Holder{}, 0, false
	}
	slices.SortFunc(senders, func(a, b Holder) int { return cmp.Compare(a.Rate, b.Rate) })
	slow, others := senders[0], senders[1:]
	median := others[len(others)/2].Rate
	if len(others)%2 == 0 {
		median = (others[len(others)/2-1].Rate + median) / 2
	}
	if slow.Rate*slowPeerFactor >= median {
		return Holder{}, 0, false
	}
	return slow, median, true
}

// reachReasons says, one fact a line, why the node's reachability is
// judged as it is.
func reachReasons(nr NodeReach) []string {
	var out []string
	if nr.RelayService {
		out = append(out, "this node runs a relay service, which declares it public")
	}
	switch nr.AutoNAT {
	case "public":
		out = append(out, "AutoNAT v1: peers dialled this node back")
	case "private":
		out = append(out, "AutoNAT v1: peers could not dial this node back")
	default:
		out = append(out, "AutoNAT v1: no peer has dialled this node back yet")
	}
	if nr.InternetPeers == 0 && nr.Reachability != ReachPublic {
		out = append(out, "no peer on the internet is connected: none can try to dial this node back")
	}
	if len(nr.Reachable) > 0 {
		out = append(out, "AutoNAT v2: reachable at "+strings.Join(nr.Reachable, ", "))
	}
	if len(nr.Unreachable) > 0 {
		out = append(out, "AutoNAT v2: unreachable at "+strings.Join(nr.Unreachable, ", "))
	}
	if len(nr.Reachable)+len(nr.Unreachable) == 0 {
		out = append(out, "AutoNAT v2: no address checked yet")
	}
	for _, t := range []struct{ name, kind string }{{"TCP", nr.NATTCP}, {"UDP", nr.NATUDP}} {
		switch t.kind {
		case natCone:
			out = append(out, fmt.Sprintf("NAT over %s: cone (peers at different addresses see one public port)", t.name))
		case natSymmetric:
			out = append(out, fmt.Sprintf("NAT over %s: symmetric (each peer sees a port of its own)", t.name))
		}
	}
	if nr.NATTCP == natUnknown && nr.NATUDP == natUnknown {
		out = append(out, "NAT kind: not told yet (it takes two peers at different public addresses)")
	}
	pm := nr.PortMapping
	switch {
	case !pm.On:
		out = append(out, "port mapping: off (--offline)")
	case !pm.Gateway:
		out = append(out, "port mapping: no router answered UPnP or NAT-PMP")
	case len(pm.Mapped) == 0:
		out = append(out, "port mapping: the router answered but mapped no port")
	default:
		for _, m := range pm.Mapped {
			out = append(out, fmt.Sprintf("port mapping: %s mapped to %s", m.Listen, m.External))
		}
	}
	if len(nr.Relays) > 0 {
		out = append(out, fmt.Sprintf("relay reservations: %d (%s)", len(nr.Relays), strings.Join(nr.Relays, ", ")))
	} else if nr.Reachability != ReachPublic {
		out = append(out, "relay reservations: none yet")
	}
	return out
}

// judgeDHT says in plain words how the DHT fares.
func judgeDHT(d DHTHealth) string {
	switch {
	case !d.On:
		return "off (--offline): content is found only through tickets, --from and the LAN"
	case d.RoutingTable == 0:
		return "no peers in the routing table: lookups cannot start (the bootstrap peers are unreachable, or none of the peers met was taken as a DHT server)"
	case d.Lookup != nil && d.Lookup.Error != "" && d.Lookup.Peers == 0:
		return "the test lookup failed: " + d.Lookup.Error
	case d.Lookup != nil && d.Lookup.Peers == 0:
		return "the test lookup found no peers"
	}
	return "healthy"
}

// NAT kinds as the diagnosis names them.
const (
	natCone      = "cone"
	natSymmetric = "symmetric"
	natUnknown   = "unknown"
)

func natName(t network.NATDeviceType) string {
	switch t {
	case network.NATDeviceTypeEndpointIndependent:
		return natCone
	case network.NATDeviceTypeEndpointDependent:
		return natSymmetric
	}
	return natUnknown
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
