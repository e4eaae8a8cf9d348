package live

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
)

// A holder pushes a new version to one follower first and to the others
// once that one holds it: they then find its blocks at that follower
// (peer exchange names it, and a follower spares the sharer: see
// exchange.FetchOptions.Spare), so the sharer uploads about one copy of
// a change however many follow. Pushed to all at once, every follower
// fetched the whole change from the sharer.
//
// The holder learns that the first follower holds the version the way
// any follower would: it asks the follower, over the live protocol, for
// versions newer than the one before, and is pushed this one when the
// follower serves it.

// staggerMax bounds how long the others wait for the first follower: a
// follower that is slow or stuck delays nobody for longer.
const staggerMax = 30 * time.Second

// While the others wait, the first follower is pinged every
// staggerPingEvery; one that leaves a ping unanswered for staggerAlive
// is taken for gone. A follower killed, or whose network went, closes
// nothing: over QUIC its connection, and so its subscription, lives on
// until the idle timeout (30 s), and every other follower would wait
// staggerMax for each version until then.
const (
	staggerPingEvery = 2 * time.Second
	staggerAlive     = 5 * time.Second
)

// stagger is a version being pushed to one follower first.
type stagger struct {
	seq   uint64
	first *sub
}

// mayPush reports whether sb may be pushed version seq of name now;
// the caller holds s.mu.
func (s *Service) mayPush(name peer.ID, sb *sub, seq uint64) bool {
	st, ok := s.staggers[name]
	return !ok || st.seq != seq || st.first == sb
}

// startStagger, with s.mu held and v just served, picks the follower to
// push v to first and wakes it; the others are woken when it holds v.
// It reports false when there is nobody to hold back (one follower or
// none, or none that answers): then all are woken at once.
func (s *Service) startStagger(v Version) bool {
	subs := s.subs[v.Name]
	if len(subs) < 2 || s.closed {
		delete(s.staggers, v.Name)
		return false
	}
	var first *sub
	for sb := range subs {
		if !sb.silent && (first == nil || sb.order < first.order) {
			first = sb // the longest subscribed: the likeliest to stay
		}
	}
	if first == nil {
		delete(s.staggers, v.Name)
		return false
	}
	s.staggers[v.Name] = &stagger{seq: v.Seq, first: first}
	wake(first)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(s.ctx, staggerMax)
		defer cancel()
		err := s.whileAlive(ctx, first.p, func(ctx context.Context) error { return s.awaitHeld(ctx, first.p, v) })
		if err != nil {
			s.log.Debug("live: first follower", "peer", first.p, "version", v.Seq, "err", err)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if errors.Is(err, errGone) {
			first.silent = true
		}
		if st := s.staggers[v.Name]; st != nil && st.seq == v.Seq {
			delete(s.staggers, v.Name)
			for sb := range s.subs[v.Name] {
				wake(sb)
			}
		}
	}()
	return true
}

func wake(sb *sub) {
	select {
	case sb.news <- struct{}{}:
	default:
	}
}

// awaitHeld returns when p serves version v (or a newer one) of its
// folder, checked against the folder's key, or when ctx ends.
func (s *Service) awaitHeld(ctx context.Context, p peer.ID, v Version) error {
	for {
		err := s.askHeld(ctx, p, v)
		if !errors.Is(err, ErrNotHeld) {
			return err
		}
		// It holds no version yet (its first): ask again shortly.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// askHeld asks p once for the versions newer than the one before v.
func (s *Service) askHeld(ctx context.Context, p peer.ID, v Version) error {
	return s.request(ctx, p, v.Name, v.Seq-1, func(raw []byte) (bool, error) {
		got, err := Open(v.Name, raw)
		return err == nil && got.Seq >= v.Seq, err
	})
}

// errGone says a peer left a ping unanswered.
var errGone = errors.New("the peer answers no ping")

// whileAlive runs f with a context that ends, and then returns errGone,
// when p leaves a ping unanswered for staggerAlive.
func (s *Service) whileAlive(ctx context.Context, p peer.ID, f func(context.Context) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			pctx, pcancel := context.WithTimeout(ctx, staggerAlive)
			res, ok := <-ping.Ping(pctx, s.h, p) // closed unanswered when pctx ends
			pcancel()
			if ctx.Err() != nil {
				return
			}
			if !ok {
				cancel(fmt.Errorf("%w within %s", errGone, staggerAlive))
				return
			}
			if res.Error != nil {
				cancel(fmt.Errorf("%w: %w", errGone, res.Error))
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(staggerPingEvery):
			}
		}
	}()
	err := f(ctx)
	cancel(nil)
	<-done
	if c := context.Cause(ctx); errors.Is(c, errGone) {
		return c
	}
	return err
}
