package swarm

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"time"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
)

// What a diagnosis asks of the swarm: the DHT's health and a lookup to
// show it works, and a peer's round-trip time.

// DHTStat describes the node's DHT.
type DHTStat struct {
	On bool
	// Server is whether the node answers others' queries (it does once
	// it is public, or always in a private DHT); a client only asks.
	Server bool
	// Peers is the size of its routing table.
	Peers int
}

// DHT describes the node's DHT; the zero value when it has none.
func (s *Swarm) DHT() DHTStat {
	if s.dht == nil {
		return DHTStat{}
	}
	return DHTStat{
		On:     true,
		Server: slices.Contains(s.Host.Mux().Protocols(), dht.ProtocolDHT),
		Peers:  s.dht.RoutingTable().Size(),
	}
}

// ErrNoDHT is returned by DHT operations of a node without one.
var ErrNoDHT = errors.New("the DHT is off")

// LookupTest walks the DHT towards a random key, as every lookup for
// content or a peer does, and returns the closest peers it found. A
// random key, not this node's ID: the node's own neighbourhood is the
// part of the DHT it knows best.
func (s *Swarm) LookupTest(ctx context.Context) ([]peer.ID, error) {
	if s.dht == nil {
		return nil, ErrNoDHT
	}
	key := make([]byte, 32)
	rand.Read(key)
	return s.dht.GetClosestPeers(ctx, string(key))
}

// FindPeer looks up a peer's addresses on the DHT.
func (s *Swarm) FindPeer(ctx context.Context, id peer.ID) (peer.AddrInfo, error) {
	if s.dht == nil {
		return peer.AddrInfo{}, ErrNoDHT
	}
	return s.dht.FindPeer(ctx, id)
}

// pings is how many pings RTT sends: the least of a few is the link's,
// not one busy moment's.
const pings = 3

// RTT pings a connected peer (go-libp2p's ping protocol, relayed
// connections included) and returns the shortest round trip.
func (s *Swarm) RTT(ctx context.Context, p peer.ID) (time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the stream
	var best time.Duration
	n := 0
	for res := range ping.Ping(ctx, s.Host, p) {
		if res.Error != nil {
			if n > 0 {
				break
			}
			return 0, res.Error
		}
		if n == 0 || res.RTT < best {
			best = res.RTT
		}
		if n++; n == pings {
			break
		}
	}
	if n == 0 {
		return 0, ctx.Err()
	}
	return best, nil
}
