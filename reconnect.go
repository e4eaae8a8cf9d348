package pollen

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen/swarm"
)

// A get keeps the peers it was told of (a ticket's sharer, --from)
// connected while it runs: a relay that goes away, or ends a connection
// at its operator's limit, takes the connection through it along, and
// the peer is dialled again at its addresses (the same relay, another,
// or where the DHT says it is now).
const (
	dialFor        = 15 * time.Second
	dialHead       = 3 * time.Second
	reconnectEvery = 3 * time.Second
)

// keepConnected dials again, until ctx ends, each of peers that is not
// connected.
func keepConnected(ctx context.Context, sw *swarm.Swarm, peers []peer.AddrInfo) {
	if len(peers) == 0 {
		return
	}
	// A connection that ends (a relay's limit, a relay gone) is dialled
	// again at once; the ticker retries what failed. The events are read
	// apart from the dials, which take seconds: the bus waits on a
	// subscriber that does not read, and with it every connection of the
	// host.
	lost := make(chan struct{}, 1)
	if sub, err := sw.Host.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged)); err == nil {
		done := make(chan struct{})
		defer func() {
			sub.Close()
			<-done
		}()
		go func() {
			defer close(done)
			for ev := range sub.Out() {
				if ev.(event.EvtPeerConnectednessChanged).Connectedness == network.NotConnected {
					select {
					case lost <- struct{}{}:
					default: // one wake-up pending is enough
					}
				}
			}
		}()
	}
	t := time.NewTicker(reconnectEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-lost:
		}
		for _, p := range peers {
			if c := sw.Host.Network().Connectedness(p.ID); c == network.Connected || c == network.Limited {
				continue
			}
			// Addresses learnt since (identify, the DHT) are dialled too.
			known := sw.Host.Peerstore().PeerInfo(p.ID)
			known.Addrs = append(known.Addrs, p.Addrs...)
			dctx, cancel := context.WithTimeout(ctx, dialFor)
			sw.Find(dctx, known)
			cancel()
		}
	}
}
