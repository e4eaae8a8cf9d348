package exchange

import (
	"context"
	"errors"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"
)

// A private share's download admits a peer once it has proved it holds
// the share (Unlock), and remembers the answer for the whole download:
// each level asks, and a peer that failed is not asked again.

// admission is a download's record of the peers it unlocked.
type admission struct {
	mu    sync.Mutex
	peers map[peer.ID]*admitting
	// refused is the last reason a peer gave for not serving the share,
	// for the error a stalled download reports.
	refused error
}

type admitting struct {
	done chan struct{}
	err  error
}

// admitted reports whether p has proved it holds the share.
func (d *download) admitted(p peer.ID) bool {
	d.adm.mu.Lock()
	defer d.adm.mu.Unlock()
	a := d.adm.peers[p]
	if a == nil {
		return false
	}
	select {
	case <-a.done:
		return a.err == nil
	default:
		return false
	}
}

// admit unlocks the share at p, once per download: a second caller waits
// for the first's answer.
func (d *download) admit(ctx context.Context, p peer.ID) error {
	d.adm.mu.Lock()
	if d.adm.peers == nil {
		d.adm.peers = map[peer.ID]*admitting{}
	}
	a := d.adm.peers[p]
	first := a == nil
	if first {
		a = &admitting{done: make(chan struct{})}
		d.adm.peers[p] = a
	}
	d.adm.mu.Unlock()
	if !first {
		select {
		case <-a.done:
			return a.err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	a.err = d.e.Unlock(ctx, p, d.o.Secret)
	d.adm.mu.Lock()
	if a.err != nil && ctx.Err() != nil {
		delete(d.adm.peers, p) // cut short, not refused: ask again
	} else if errors.Is(a.err, ErrNotAllowed) || errors.Is(a.err, ErrNotHolder) {
		d.adm.refused = a.err
	}
	d.adm.mu.Unlock()
	close(a.done)
	if a.err != nil {
		d.e.log.Debug("private share", "peer", p, "err", a.err)
	}
	return a.err
}

// refusal is the last reason a peer gave for not serving the share.
func (d *download) refusal() error {
	d.adm.mu.Lock()
	defer d.adm.mu.Unlock()
	return d.adm.refused
}
