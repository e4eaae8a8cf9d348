package exchange

import (
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Sources are the peers a fetch was pointed at (FetchOptions.Sources: a
// ticket's holders, the peers a get dials first). A getter that begins a
// level connected to other getters and not yet to the seeder (whose
// full link answers a dial seconds late) hears every other pollen peer
// say it holds nothing before any of them claimed a block. Handed to
// Bitswap then, the level's blocks come from the seeder's Bitswap
// server once it is connected, and that server does not super-seed: the
// seeder's link, the swarm's narrowest, carries copies of what the
// getters would have traded. So while a source has not said what it
// holds, no block of the level goes to Bitswap, for sourceWait from the
// fetch's start at most. A source is not waited for once its dial was
// refused (nothing listens where it was said to be) or once it turns
// out not to speak pollen's protocols (an IPFS node given with --from
// answers over Bitswap only).

// sourceWait bounds the wait, from the fetch's start: a later level has
// had its time already, and a source gone for good holds the fetch back
// once. It covers a dial through a full link whose handshake packets
// are dropped (TCP sends its SYN again after 1 s, then 3 s more), the
// handshake and first answer queued behind that link's traffic, and a
// get whose first dial timed out dialling again a few seconds later.
const sourceWait = 10 * time.Second

// source is what the scheduler knows of one of the fetch's sources.
type source struct {
	answered bool // it said what it holds, on this level
	gone     bool // not waited for: refused, or not a pollen peer
}

// setSources names the sources a level waits for, until sourceWait
// after began (the fetch's start).
func (s *scheduler) setSources(ids []peer.ID, began time.Time) {
	s.sources = make(map[peer.ID]*source, len(ids))
	for _, id := range ids {
		s.sources[id] = &source{}
	}
	s.sourceWait = max(0, sourceWait-s.since.Sub(began))
}

// heard records that id said what it holds, if it is a source. It stays
// heard should it leave: its word on the level counted.
func (s *scheduler) heard(id peer.ID) {
	if src := s.sources[id]; src != nil {
		src.answered = true
	}
}

// sourceGone stops waiting for source id.
func (s *scheduler) sourceGone(id peer.ID) {
	if src := s.sources[id]; src != nil {
		src.gone = true
	}
}

// unheard returns the sources waited for: not answered, not gone.
func (s *scheduler) unheard() []peer.ID {
	var out []peer.ID
	for id, src := range s.sources {
		if !src.answered && !src.gone {
			out = append(out, id)
		}
	}
	return out
}

// awaiting reports whether blocks no pollen peer holds wait, at now, for
// a source to say what it holds.
func (s *scheduler) awaiting(now time.Time) bool {
	return now.Sub(s.since) < s.sourceWait && len(s.unheard()) > 0
}

// sourcesAwaited returns the sources a level beginning at now waits for:
// none once sourceWait passed, nor those known not to answer.
func (d *download) sourcesAwaited(now time.Time) []peer.ID {
	if now.Sub(d.began) >= sourceWait {
		return nil
	}
	var out []peer.ID
	for _, id := range d.o.Sources {
		if id != d.e.h.ID() && !d.sourceGone(id) {
			out = append(out, id)
		}
	}
	return out
}

// sourceGone reports whether source id will not say what it holds: its
// dial was refused, or it is identified and does not speak ProtoBlocks.
func (d *download) sourceGone(id peer.ID) bool {
	if d.o.Unreachable != nil && d.o.Unreachable(id) {
		return true
	}
	protos, _ := d.e.h.Peerstore().GetProtocols(id)
	return len(protos) > 0 && !slices.Contains(protos, ProtoBlocks)
}

// checkSources tells the scheduler which sources it waits for are gone;
// called with mu held, at every tick.
func (lv *level) checkSources() {
	for _, id := range lv.sched.unheard() {
		if lv.d.sourceGone(id) {
			lv.sched.sourceGone(id)
		}
	}
}
