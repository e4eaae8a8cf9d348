package live

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// A follower holds one stream open per folder and holder for as long as
// it follows, so these bound what strangers hold here: streams are
// cheap, but each is a goroutine and an entry.
const (
	maxSubsPerPeer = 16
	maxSubs        = 1024
	ioTimeout      = time.Minute // a request, or a push, that takes longer is dropped
)

// Service is the live protocol on a host: it answers followers with the
// versions this node serves, and subscribes to holders.
type Service struct {
	h    host.Host
	log  *slog.Logger
	book *Book

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	closed bool
	served map[peer.ID]Version           // per name: the newest version whose blocks this node holds
	subs   map[peer.ID]map[*sub]struct{} // per name: who follows it here
	load   map[peer.ID]int               // per peer: streams it holds
	total  int
	// staggers holds, per name, the version pushed to one follower
	// first (stagger.go); orders counts subscriptions.
	staggers map[peer.ID]*stagger
	orders   uint64
}

// sub is one follower's stream: told of news through a slot that holds
// the newest version only, so a slow follower skips versions rather than
// queueing them.
type sub struct {
	p     peer.ID
	news  chan struct{} // capacity 1
	order uint64        // when it came, for stagger
	// silent: it left a ping unanswered while pushed a version first
	// (stagger.go); it is not picked first again.
	silent bool
}

// NewService starts answering the live protocol on h. Records checked by
// it go into book.
func NewService(h host.Host, book *Book, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Service{h: h, log: log, book: book, served: map[peer.ID]Version{}, subs: map[peer.ID]map[*sub]struct{}{}, load: map[peer.ID]int{}, staggers: map[peer.ID]*stagger{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	h.SetStreamHandler(Proto, s.handle)
	return s
}

// Close stops answering and waits for every stream served.
func (s *Service) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.h.RemoveStreamHandler(Proto)
	s.cancel()
	s.wg.Wait()
	return nil
}

// Serve makes v the version of its folder this node serves (it holds
// its blocks) and pushes it to the followers here, if it is newer than
// the one served. The same version signed again later replaces the
// record served, unpushed: a folder unchanged for two days would be
// served past its record's EOL, which followers refuse.
func (s *Service) Serve(v Version) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.served[v.Name]; ok && old.Seq >= v.Seq {
		if old.Seq == v.Seq && old.Root.Equals(v.Root) && v.EOL.After(old.EOL) {
			s.served[v.Name] = v
		}
		return
	}
	s.served[v.Name] = v
	if s.startStagger(v) {
		return
	}
	for sb := range s.subs[v.Name] {
		wake(sb)
	}
}

// Withdraw stops serving name: a new follower is told this node holds
// no version of it (the node stopped sharing or following it).
func (s *Service) Withdraw(name peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.served, name)
}

// Served returns the version of name this node serves.
func (s *Service) Served(name peer.ID) (Version, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.served[name]
	return v, ok
}

// Followers counts the peers following name here.
func (s *Service) Followers(name peer.ID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := map[peer.ID]bool{}
	for sb := range s.subs[name] {
		ps[sb.p] = true
	}
	return len(ps)
}

// FollowerIDs lists the peers following name here, the longest
// subscribed first: they hold its versions, or soon will.
func (s *Service) FollowerIDs(name peer.ID) []peer.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := map[peer.ID]uint64{}
	for sb := range s.subs[name] {
		if o, ok := first[sb.p]; !ok || sb.order < o {
			first[sb.p] = sb.order
		}
	}
	out := make([]peer.ID, 0, len(first))
	for p := range first {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b peer.ID) int { return cmp.Compare(first[a], first[b]) })
	return out
}

// enter registers a follower's stream, within the budget.
func (s *Service) enter(name peer.ID, sb *sub) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.load[sb.p] >= maxSubsPerPeer || s.total >= maxSubs {
		return false
	}
	s.load[sb.p]++
	s.total++
	s.orders++
	sb.order = s.orders
	if s.subs[name] == nil {
		s.subs[name] = map[*sub]struct{}{}
	}
	s.subs[name][sb] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Service) leave(name peer.ID, sb *sub) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.subs[name], sb)
	if st := s.staggers[name]; st != nil && st.first == sb {
		// The first follower left: the others need not wait for it.
		delete(s.staggers, name)
		for o := range s.subs[name] {
			wake(o)
		}
	}
	if len(s.subs[name]) == 0 {
		delete(s.subs, name)
	}
	if s.load[sb.p]--; s.load[sb.p] == 0 {
		delete(s.load, sb.p)
	}
	s.total--
	s.wg.Done()
}

// handle serves one follower's stream until it closes it.
func (s *Service) handle(st network.Stream) {
	p := st.Conn().RemotePeer()
	st.SetDeadline(time.Now().Add(ioTimeout))
	r := bufio.NewReader(st)
	name, have, err := readRequest(r)
	if err != nil {
		st.Reset()
		return
	}
	sb := &sub{p: p, news: make(chan struct{}, 1)}
	if !s.enter(name, sb) {
		st.Reset()
		return
	}
	defer s.leave(name, sb)
	defer context.AfterFunc(s.ctx, func() { st.Reset() })()
	w := bufio.NewWriter(st)
	if _, ok := s.Served(name); !ok {
		writeRecord(w, nil)
		st.Close()
		return
	}
	st.SetDeadline(time.Time{})
	gone := make(chan struct{})
	go func() {
		// The follower sends nothing more: EOF or a reset is its leaving,
		// a byte is a violation.
		var b [1]byte
		r.Read(b[:])
		st.Reset()
		close(gone)
	}()
	sb.news <- struct{}{} // the version served now, if newer than have
	for {
		select {
		case <-gone:
			return
		case <-sb.news:
		}
		s.mu.Lock()
		v := s.served[name]
		may := s.mayPush(name, sb, v.Seq)
		s.mu.Unlock()
		if v.Seq <= have || !may {
			continue // not newer; or held back for now: woken again then
		}
		st.SetWriteDeadline(time.Now().Add(ioTimeout))
		if err := writeRecord(w, v.Raw); err != nil {
			st.Reset()
			<-gone
			return
		}
		have = v.Seq
	}
}

// ErrNotHeld is returned by Subscribe when the holder holds no version
// of the folder.
var ErrNotHeld = errors.New("the peer holds no version of this folder")

// Subscribe asks holder for the versions of name newer than have, and
// calls news with each that the book takes as news, until ctx ends or
// the stream does (its error says why). A forged or malformed record
// ends the subscription: the holder lied; a stale one is passed over (it
// may be behind another holder).
func (s *Service) Subscribe(ctx context.Context, holder, name peer.ID, have uint64, news func(from peer.ID, v Version)) error {
	return s.request(ctx, holder, name, have, func(raw []byte) (bool, error) {
		v, isNews, err := s.book.Accept(name, raw)
		if errors.Is(err, ErrStale) {
			return false, nil // a holder behind another one: not a lie
		}
		if err != nil {
			return false, fmt.Errorf("from %s: %w", holder, err)
		}
		if isNews {
			news(holder, v)
		}
		return false, nil
	})
}

// request asks p for the versions of name newer than have and hands
// each record it answers to each, until each says it is done or fails,
// ctx ends, or the stream does; an empty answer is ErrNotHeld.
func (s *Service) request(ctx context.Context, p, name peer.ID, have uint64, each func(raw []byte) (done bool, err error)) error {
	ctx = network.WithAllowLimitedConn(ctx, "a live folder's records go where its blocks go")
	st, err := s.h.NewStream(ctx, p, Proto)
	if err != nil {
		return err
	}
	defer st.Reset()
	defer context.AfterFunc(ctx, func() { st.Reset() })()
	st.SetDeadline(time.Now().Add(ioTimeout))
	if err := writeRequest(bufio.NewWriter(st), name, have); err != nil {
		return err
	}
	st.SetDeadline(time.Time{})
	r := bufio.NewReader(st)
	for {
		raw, err := readRecord(r)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
		if len(raw) == 0 {
			return ErrNotHeld
		}
		if done, err := each(raw); done || err != nil {
			return err
		}
	}
}
