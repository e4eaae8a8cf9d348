package exchange

import (
	"bufio"
	"encoding/binary"
	"io"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// readAhead is how many asked CIDs a ProtoBlocks stream may hold queued
// before this node reads its next message: enough that a cancel behind
// a getter's pipelined asks is read while those are sent.
const readAhead = 1024

// wants is what a ProtoBlocks stream asked for and is not answered yet.
// The stream's reader adds to it; its writer answers in order.
type wants struct {
	mu       sync.Mutex
	queue    []want
	queued   map[string]int // asked and not answered, by multihash
	cancel   map[string]int // of them, how many the getter cancelled
	err      error          // the reader's end: io.EOF once the getter closed its side
	changed  chan struct{}  // closed and replaced at every change
	writable chan struct{}  // closed and replaced when the writer takes one
	gone     chan struct{}  // closed when the writer ends
}

// want is one asked CID; the last of a list gives its lease back.
type want struct {
	c  cid.Cid
	le *lease // on the list's last CID only
}

func newWants() *wants {
	return &wants{queued: map[string]int{}, cancel: map[string]int{}, changed: make(chan struct{}), writable: make(chan struct{}), gone: make(chan struct{})}
}

func (q *wants) signal() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// add queues a list; le is given back once its last CID is answered.
func (q *wants) add(cs []cid.Cid, le *lease) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for k, c := range cs {
		w := want{c: c}
		if k == len(cs)-1 {
			w.le = le
		}
		q.queue = append(q.queue, w)
		q.queued[string(c.Hash())]++
	}
	q.signal()
}

// withdraw cancels the CIDs of cs that are queued and not cancelled yet;
// one sent already is not.
func (q *wants) withdraw(cs []cid.Cid) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, c := range cs {
		h := string(c.Hash())
		if q.cancel[h] < q.queued[h] {
			q.cancel[h]++
		}
	}
}

// end records why the reader stopped.
func (q *wants) end(err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.err = err
	q.signal()
}

// take returns the next want and whether the getter cancelled it; ok is
// false when none is queued or the reader failed, with a channel closed
// at the next change and the reader's end.
func (q *wants) take() (w want, cancelled, ok bool, changed <-chan struct{}, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.queue) == 0 || q.err != nil && q.err != io.EOF {
		return want{}, false, false, q.changed, q.err
	}
	w, q.queue = q.queue[0], q.queue[1:]
	h := string(w.c.Hash())
	if q.queued[h]--; q.queued[h] == 0 {
		delete(q.queued, h)
	}
	if q.cancel[h] > 0 {
		if q.cancel[h]--; q.cancel[h] == 0 {
			delete(q.cancel, h)
		}
		cancelled = true
	}
	close(q.writable)
	q.writable = make(chan struct{})
	return w, cancelled, true, nil, nil
}

// ended returns the channel closed at the next change, and whether the
// reader failed (the stream was reset).
func (q *wants) ended() (<-chan struct{}, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.changed, q.err != nil && q.err != io.EOF
}

// full returns a channel closed once the writer takes a want, or nil
// when fewer than readAhead are queued.
func (q *wants) full() <-chan struct{} {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.queue) < readAhead {
		return nil
	}
	return q.writable
}

// serveBlocks answers a peer's ProtoBlocks or ProtoBlocksChoke asks until
// it closes the stream, within the serving budget, as the choker allows:
// a choked getter's asks are answered "withheld" (ProtoBlocksChoke) or
// wait (ProtoBlocks).
func (e *Exchange) serveBlocks(s network.Stream) {
	p := s.Conn().RemotePeer()
	tagged := s.Protocol() == ProtoBlocksChoke
	e.chokes.open(p)
	defer e.chokes.close(p)
	q := newWants()
	read := make(chan struct{})
	clean := false // the getter closed its side and every ask was answered
	defer func() {
		close(q.gone)
		if clean {
			s.Close()
		} else {
			s.Reset() // ends the reader too
		}
		<-read
		q.mu.Lock()
		for _, w := range q.queue {
			if w.le != nil {
				e.load.give(w.le)
			}
		}
		q.mu.Unlock()
	}()
	go func() {
		defer close(read)
		q.end(e.readWants(s, p, tagged, q))
	}()
	w := bufio.NewWriterSize(s, 64<<10)
	told := false // the getter was withheld a block for its choke, and not told it is unchoked
	var hdr [1 + binary.MaxVarintLen64]byte
	for {
		wt, cancelled, ok, changed, err := q.take()
		if !ok {
			if told && e.chokes.unchoked(p) {
				w.WriteByte(statusUnchoked)
				told = false
				continue
			}
			if w.Flush() != nil || err != nil {
				clean = err == io.EOF
				return
			}
			select {
			case <-changed:
			case <-e.chokes.changed():
			case <-e.ctx.Done():
				return
			}
			continue
		}
		s.SetWriteDeadline(time.Now().Add(ioTimeout))
		switch {
		case cancelled:
			w.WriteByte(statusWithheld)
		case !e.waitUnchoked(p, tagged, w, q):
			w.WriteByte(statusWithheld)
			e.chokes.withheld(p)
			told = true
		default:
			err = e.sendBlock(w, hdr[:0], p, wt.c)
		}
		if wt.le != nil {
			e.load.give(wt.le)
		}
		if err != nil || e.ctx.Err() != nil {
			return
		}
	}
}

// waitUnchoked reports whether p is unchoked; over ProtoBlocks (not
// tagged), which cannot say "withheld", it waits for that first, with
// what was written flushed, unless the stream ends.
func (e *Exchange) waitUnchoked(p peer.ID, tagged bool, w *bufio.Writer, q *wants) bool {
	for {
		wake := e.chokes.changed()
		if e.chokes.unchoked(p) || tagged {
			return e.chokes.unchoked(p)
		}
		changed, failed := q.ended()
		if failed || w.Flush() != nil {
			return true // the write that follows fails too
		}
		select {
		case <-wake:
		case <-changed:
		case <-e.ctx.Done():
			return true
		}
	}
}

// readWants reads a getter's asks (and, tagged, its cancels) into q,
// counting each list against the serving budget, until the stream ends.
func (e *Exchange) readWants(s network.Stream, p peer.ID, tagged bool, q *wants) error {
	r := bufio.NewReader(s)
	for {
		if full := q.full(); full != nil {
			select {
			case <-full:
			case <-q.gone:
				return io.ErrClosedPipe
			case <-e.ctx.Done():
				return e.ctx.Err()
			}
			continue
		}
		s.SetReadDeadline(time.Now().Add(blocksIdle))
		kind, n, err := msgWant, 0, error(nil)
		if tagged {
			kind, n, err = readMessageHead(r)
		} else {
			n, err = readCount(r)
		}
		if err != nil {
			return err
		}
		le, ok := e.lease(s, n)
		if !ok {
			return io.ErrUnexpectedEOF
		}
		s.SetReadDeadline(time.Now().Add(ioTimeout))
		cs, err := readCIDList(r, n)
		if err != nil {
			e.load.give(le)
			return err
		}
		if kind == msgCancel {
			q.withdraw(cs)
			e.load.give(le)
			continue
		}
		if n == 0 {
			e.load.give(le)
			continue
		}
		e.chokes.want(p, e.trades.has(p))
		q.add(cs, le)
	}
}

// sendBlock writes the answer for c: the block, or "not here".
func (e *Exchange) sendBlock(w *bufio.Writer, hdr []byte, p peer.ID, c cid.Cid) error {
	if !e.serves(p, c) {
		return w.WriteByte(statusMissing) // as a block not here: a private share's tells nothing
	}
	sent, wrote := 0, false
	err := e.view(e.ctx, c, func(data []byte) error {
		w.Write(binary.AppendUvarint(append(hdr, statusBlock), uint64(len(data))))
		_, err := w.Write(data)
		sent, wrote = len(data), true
		return err
	})
	switch {
	case wrote && err != nil: // the stream failed
		return err
	case err != nil:
		return w.WriteByte(statusMissing)
	}
	e.count(p, int64(sent), 1, true)
	if e.served != nil {
		e.served(p, c, sent)
	}
	return nil
}
