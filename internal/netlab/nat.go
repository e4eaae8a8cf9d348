package netlab

import "fmt"

// NAT is how a home's router maps its host's connections onto the home's
// one public address. Both kinds let in only replies from where the host
// sent to (Linux conntrack), so neither takes unsolicited packets.
type NAT int

const (
	// Cone is a port-preserving NAT: plain masquerade keeps the host's
	// source port whenever that port is free on the public address, so
	// one socket has the same public port for every destination
	// (endpoint-independent mapping, RFC 4787); with conntrack's
	// filtering, a port-restricted cone in RFC 3489's words. Hole
	// punching gets through it when both sides send.
	Cone NAT = iota + 1
	// Symmetric gives every new destination (address and port) a public
	// port drawn at random, so the port one peer saw tells another peer
	// nothing: hole punching to the port a peer saw fails, and a relay
	// is the way in.
	Symmetric
)

func (n NAT) String() string {
	switch n {
	case Cone:
		return "cone"
	case Symmetric:
		return "symmetric"
	}
	return fmt.Sprintf("NAT(%d)", int(n))
}

// natRules is the router's whole nftables ruleset: a home router's
// firewall. The forward chain lets out what the LAN sends and back only
// what answers it or a port mapping forwards (Lab.PortMapping adds its
// rules to the prerouting chain), so a packet routed at a home's private
// addresses stops here. The input chain drops what the internet sends the router itself
// unasked, as home routers do, and a cone NAT needs it: conntrack keeps
// an entry for a packet the router accepts, even one no socket takes,
// and a peer's early hole-punching packet would then hold the very tuple
// the host's reply needs, so masquerade would give the host another port.
const natRules = `
table ip nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan" masquerade%s
	}
}
table ip filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iifname { "lo", "lan" } accept
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		ct status dnat accept
		iifname "lan" oifname "wan" accept
	}
}
`

// ruleset returns the router's ruleset for n, or "" for an unknown kind.
func (n NAT) ruleset() string {
	switch n {
	case Cone:
		return fmt.Sprintf(natRules, "")
	case Symmetric:
		// fully-random rather than random: random derives the port from a
		// hash of the addresses and destination port, fully-random draws
		// each mapping's port on its own, the harder case for a peer.
		return fmt.Sprintf(natRules, " fully-random")
	}
	return ""
}
