package exchange

import (
	"bufio"
	"context"
	"slices"
	"sync"
	"time"

	bstore "github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p/core/network"
)

// The serving side: pollen peers subscribe to what this node holds over
// ProtoHave (see wire.go) and ask over ProtoBlocks (serveblocks.go).

// A getter keeps its ProtoBlocks streams open for a level of the DAG and
// may have nothing to ask of this node for a while; a stream idle for
// blocksIdle is closed, so a peer cannot hold streams open for nothing.
// A ProtoHave subscription that has had nothing new to tell for
// haveIdle ends: what the getter still lacks, this node is not getting.
const (
	blocksIdle = 5 * time.Minute
	haveIdle   = 10 * time.Minute
)

// A servingStore checks its blocks itself (pollen's: file references on
// every read, its own copies by a background scrub), and says how to
// read them for a peer.
type servingStore interface {
	ServeView(ctx context.Context, c cid.Cid, fn func([]byte) error) error
}

// lease counts a list of n CIDs from s's peer against the serving
// budget (see budget.take); a stream past it is reset.
func (e *Exchange) lease(s network.Stream, n int) (*lease, bool) {
	le, ok := e.load.take(s.Conn().RemotePeer(), n, func() { s.Reset() })
	if !ok {
		s.Reset()
	}
	return le, ok
}

// view calls fn with c's bytes, valid only during the call: through a
// servingStore's ServeView, else checked against c (see intact) and read
// through the store's View where it has one, else through Get.
func (e *Exchange) view(ctx context.Context, c cid.Cid, fn func([]byte) error) error {
	if s, ok := e.store.(servingStore); ok {
		return s.ServeView(ctx, c, fn)
	}
	checked := func(data []byte) error {
		if err := e.intact(ctx, c, data); err != nil {
			return err
		}
		return fn(data)
	}
	if v, ok := e.store.(bstore.Viewer); ok {
		return v.View(ctx, c, checked)
	}
	b, err := e.store.Get(ctx, c)
	if err != nil {
		return err
	}
	return checked(b.RawData())
}

// intact re-hashes a block about to be served. A disk that flips bits
// would otherwise have this node send the same damaged block to every
// getter, each of which would count it against this node; a damaged
// block is dropped from the store and reported missing, so the getter
// asks another peer and a later get here fetches it again.
func (e *Exchange) intact(ctx context.Context, c cid.Cid, data []byte) error {
	got, err := c.Prefix().Sum(data)
	if err == nil && got.Equals(c) {
		return nil
	}
	e.log.Warn("a stored block is damaged; dropped it", "cid", c)
	if err := e.store.DeleteBlock(ctx, c); err != nil {
		e.log.Warn("drop damaged block", "cid", c, "err", err)
	}
	return ipld.ErrNotFound{Cid: c}
}

// has reports whether c can be served.
func (e *Exchange) has(ctx context.Context, c cid.Cid) bool {
	ok, _ := e.store.Has(ctx, c)
	return ok
}

// serveHave tells a peer which of the CIDs it lists are here, then which
// arrive, until it closes the stream, all are here, or haveIdle passes
// with nothing new, within the serving budget. Over ProtoHaveFetching it
// also tells which of them this node asks a peer for.
func (e *Exchange) serveHave(s network.Stream) {
	defer s.Close()
	p := s.Conn().RemotePeer()
	r := bufio.NewReader(s)
	w := bufio.NewWriterSize(s, 16<<10)
	s.SetReadDeadline(time.Now().Add(ioTimeout))
	n, err := readCount(r)
	if err != nil {
		s.Reset()
		return
	}
	le, ok := e.lease(s, n)
	if !ok {
		return
	}
	defer e.load.give(le)
	cs, err := readCIDList(r, n)
	if err != nil {
		s.Reset()
		return
	}
	s.SetReadDeadline(time.Time{})
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	reading := make(chan struct{})
	go func() { // the getter closing its side (or resetting) ends it
		defer close(reading)
		if _, err := r.ReadByte(); err == nil {
			s.Reset() // the getter sends one list, then only closes
		}
		cancel()
	}()
	// The answer ends here; the reader ends when the getter closes its
	// side, or within ioTimeout.
	defer func() {
		s.CloseWrite()
		s.SetReadDeadline(time.Now().Add(ioTimeout))
		<-reading
	}()
	pending := make(map[string]int, len(cs))
	for i, c := range cs {
		pending[string(c.Hash())] = i
	}
	// A block of a private share p may not have is never said to be
	// here (it would tell p what this node holds), nor when it arrives.
	served := func(i int) bool { return e.serves(p, cs[i]) }
	// askStore moves what the store holds out of pending. Call it after
	// taking the log's position, so that a block stored in between is
	// seen by one or the other.
	askStore := func() []int {
		var held []int
		for h, i := range pending {
			if ctx.Err() != nil {
				return nil
			}
			if served(i) && e.has(ctx, cs[i]) {
				held = append(held, i)
				delete(pending, h)
			}
		}
		return held
	}
	tagged := s.Protocol() == ProtoHaveFetching
	write := func(kind int, idx []int) error {
		s.SetWriteDeadline(time.Now().Add(ioTimeout))
		if tagged {
			return writeTagged(w, kind, idx)
		}
		return writeIndexes(w, idx)
	}
	// Each block is said to be fetched once at most: a getter counts a
	// peer's word on a block once (see claims.go).
	var told map[string]bool
	var askSeq uint64
	var askWake <-chan struct{} // nil, so never ready, over ProtoHave
	if tagged {
		// What this node asked for lately, the new subscriber is told at
		// once: a getter starting late would otherwise take those blocks
		// from the seeder too, or hand them to Bitswap.
		told = map[string]bool{}
		askSeq = e.asking.recent(fetchHold)
		now := make(chan struct{})
		close(now)
		askWake = now
	}
	seq, wake := e.notes.position()
	held := askStore()
	idle := time.NewTimer(haveIdle)
	defer idle.Stop()
	for first := true; ; first = false {
		if len(held) > 0 || first {
			if err := write(kindHolds, held); err != nil {
				s.Reset()
				return
			}
			idle.Reset(haveIdle)
		}
		if len(pending) == 0 {
			return
		}
		select {
		case <-wake:
		case <-askWake:
			var hs []string
			hs, askSeq, askWake, _ = e.asking.since(askSeq)
			var fetching []int
			for _, h := range hs {
				if e.fetches.Load() == 0 {
					break // no get runs here now: its asks are void
				}
				if i, ok := pending[h]; ok && !told[h] && served(i) {
					told[h] = true
					fetching = append(fetching, i)
				}
			}
			held = held[:0]
			if len(fetching) > 0 {
				if err := write(kindFetching, fetching); err != nil {
					s.Reset()
					return
				}
			}
			continue
		case <-idle.C:
			return
		case <-ctx.Done():
			return
		}
		var hs []string
		var complete bool
		hs, seq, wake, complete = e.notes.since(seq)
		if !complete { // fell behind the log: ask the store
			held = askStore()
			continue
		}
		held = held[:0]
		for _, h := range hs {
			if i, ok := pending[h]; ok && served(i) {
				held = append(held, i)
				delete(pending, h)
			}
		}
	}
}

// announce tells ProtoHave subscribers and Bitswap's server about blocks
// now in the store. Only the server: a fetch's client delivered these
// blocks itself, and telling it again republishes them to the session's
// channel, which blocks while the fetch's storer, its reader, is here.
func (e *Exchange) announce(ctx context.Context, bl []blocks.Block) error {
	e.notes.add(bl)
	return e.bs.Server.NotifyNewBlocks(ctx, bl...)
}

// storedLog lists the multihashes fetches brought (or asked a pollen peer
// for), so that ProtoHave servers can tell their peers what arrived (or
// what is being fetched).
type storedLog struct {
	keep   int // hashes kept: between keep and 2*keep
	mu     sync.Mutex
	base   uint64   // sequence number of hashes[0]
	hashes []string // the most recent
	at     []int64  // when each was added, Unix nanoseconds
	wake   chan struct{}
}

// The logs are bounded: each entry takes a string and a time, and a get
// of small files adds thousands a second.
const (
	// keepNotes bounds the log of blocks stored: a subscriber that falls
	// further behind asks the store instead.
	keepNotes = 1 << 14
	// keepAsks bounds the log of blocks asked for, which nothing can
	// replace: a subscriber that falls further behind misses some, and a
	// new one is told the asks of the last fetchHold only as far as the
	// log reaches. It holds fetchHold of a get of small files.
	keepAsks = 1 << 16
)

// position returns the sequence number of the next hash stored and a
// channel closed when one is.
func (l *storedLog) position() (uint64, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.base + uint64(len(l.hashes)), l.wakeLocked()
}

// wakeLocked is the channel closed at the next add. Called with mu held.
func (l *storedLog) wakeLocked() chan struct{} {
	if l.wake == nil {
		l.wake = make(chan struct{})
	}
	return l.wake
}

func (l *storedLog) add(bl []blocks.Block) {
	cs := make([]cid.Cid, len(bl))
	for k, b := range bl {
		cs[k] = b.Cid()
	}
	l.addCIDs(cs)
}

func (l *storedLog) addCIDs(cs []cid.Cid) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now().UnixNano()
	for _, c := range cs {
		l.hashes = append(l.hashes, string(c.Hash()))
		l.at = append(l.at, now)
	}
	if len(l.hashes) > 2*l.keep {
		drop := len(l.hashes) - l.keep
		l.hashes = append([]string(nil), l.hashes[drop:]...)
		l.at = append([]int64(nil), l.at[drop:]...)
		l.base += uint64(drop)
	}
	close(l.wakeLocked())
	l.wake = make(chan struct{})
}

// recent returns the position of the first hash added within d.
func (l *storedLog) recent(d time.Duration) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	after := time.Now().Add(-d).UnixNano()
	k, _ := slices.BinarySearch(l.at, after)
	return l.base + uint64(k)
}

// since returns the hashes stored from seq on, the next position and its
// channel; complete is false when some of them were already forgotten.
func (l *storedLog) since(seq uint64) (hs []string, next uint64, wake <-chan struct{}, complete bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	next = l.base + uint64(len(l.hashes))
	if seq < l.base {
		return nil, next, l.wakeLocked(), false
	}
	return append([]string(nil), l.hashes[seq-l.base:]...), next, l.wakeLocked(), true
}
