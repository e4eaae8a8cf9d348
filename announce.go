package pollen

import (
	"context"
	"time"

	"github.com/ipfs/go-cid"
)

// ProvideAll queues every shared and fetched root to be announced on the
// DHT, when there is one; it returns when all are queued or ctx ends.
func (n *Node) ProvideAll(ctx context.Context) {
	nw := n.online()
	if nw == nil || nw.announce == nil {
		return
	}
	recs, err := n.List()
	if err != nil {
		return
	}
	for _, r := range recs {
		// A private root is never in the DHT (who holds it is its secret);
		// one paused or stopped is not served.
		if r.Private() || !n.seeded(r) {
			continue
		}
		select {
		case nw.announce <- r.Root:
		case <-ctx.Done():
			return
		case <-n.ctx.Done():
			return
		}
	}
}

// announceQueue bounds the roots waiting to be announced; past it, a
// root is announced at the next ProvideAll (the daemon's start).
const announceQueue = 1024

// provide queues root to be announced on the DHT, when there is one,
// without waiting.
func (n *Node) provide(root cid.Cid) {
	nw := n.online()
	if nw == nil || nw.announce == nil {
		return
	}
	select {
	case nw.announce <- root:
	default:
		n.log.Debug("announce queue full", "root", root)
	}
}

// announcer announces queued roots one at a time until the node closes:
// a DHT provide takes seconds and many of them at once gain nothing.
//
// A share announces its root as soon as it is added, when the DHT may
// have no peers yet, and the announcement fails: a failed one is tried
// again after each of announceRetries, the last first (the daemon
// announces everything again every 12 hours).
func (n *Node) announcer(nw *netState) {
	type retry struct {
		root  cid.Cid
		at    time.Time
		tries int
	}
	var retries []retry
	t := time.NewTicker(announceTick)
	defer t.Stop()
	announce := func(root cid.Cid, tries int) {
		ctx, cancel := context.WithTimeout(n.ctx, time.Minute)
		defer cancel()
		err := n.provideKept(ctx, nw, root)
		if err == nil {
			return
		}
		n.log.Debug("provide", "root", root, "err", err, "tries", tries+1)
		if tries < len(announceRetries) && len(retries) < announceQueue {
			retries = append(retries, retry{root, time.Now().Add(announceRetries[tries]), tries + 1})
		}
	}
	for {
		select {
		case <-n.ctx.Done():
			return
		case root := <-nw.announce:
			announce(root, 0)
		case now := <-t.C:
			due := retries
			retries = nil
			for _, r := range due {
				if now.Before(r.at) {
					retries = append(retries, r)
					continue
				}
				announce(r.root, r.tries)
			}
		}
	}
}

// When a failed announcement is tried again, and how often the
// announcer looks.
var announceRetries = []time.Duration{10 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute}

const announceTick = 5 * time.Second
