package exchange

import (
	"bufio"
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// lane is one ProtoBlocks stream to a peer.
type lane struct {
	queue    []int // indexes asked for, in the order the answers come
	inflight int64 // bytes asked for, not yet arrived
	choke    bool  // ProtoBlocksChoke: it can be withheld, and cancel
	// cancel holds what to cancel (it came from another peer), cancelled
	// what was, until its answer comes.
	cancel    []int
	cancelled map[int]bool
	arrived   atomic.Int64 // bytes read since the level's last tick (sluggish.go)
}

// cancelAt cancels block i at the peers asked for it besides the one
// that brought it, on the lane whose queue holds it. Called with mu held.
func (lv *level) cancelAt(id peer.ID, i int) {
	for _, q := range lv.sched.askers(id, i) {
		for _, ln := range lv.lanes[q] {
			if ln.choke && !ln.cancelled[i] && slices.Contains(ln.queue, i) {
				ln.cancel = append(ln.cancel, i)
			}
		}
	}
}

// ask sends the peer the requests the scheduler picks over ln, while the
// lane holds no more than its share of the peer's window.
func (lv *level) ask(ctx context.Context, id peer.ID, ln *lane, w *bufio.Writer) error {
	for {
		var want, cancel []cid.Cid
		lv.mu.Lock()
		for _, i := range ln.cancel {
			if slices.Contains(ln.queue, i) { // else its answer came
				ln.cancelled[i] = true
				cancel = append(cancel, lv.items[i].c)
			}
		}
		ln.cancel = ln.cancel[:0]
		for lv.err == nil && ln.inflight <= lv.sched.windowOf(id)/lanesPerPeer {
			i := lv.sched.next(id)
			if i < 0 {
				break
			}
			if lv.sched.takeBack(i) {
				lv.hand.takeBack(lv.items[i].c)
			}
			ln.queue = append(ln.queue, i)
			ln.inflight += lv.sched.sizes[i]
			want = append(want, lv.items[i].c)
		}
		wake := lv.changed
		lv.mu.Unlock()
		if len(cancel) > 0 {
			if err := writeMessage(w, msgCancel, cancel); err != nil {
				return err
			}
		}
		if len(want) > 0 {
			lv.d.e.asking.addCIDs(want) // told to the peers fetching them too
			var err error
			if ln.choke {
				err = writeMessage(w, msgWant, want)
			} else {
				err = writeCIDs(w, want)
			}
			if err != nil {
				return err
			}
			continue
		}
		if len(cancel) > 0 {
			continue
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// readBlocks reads the peer's answers in the order they were asked for,
// checks each against its CID and hands them to the storer in batches.
func (lv *level) readBlocks(ctx context.Context, id peer.ID, ln *lane, s network.Stream) error {
	waiting := func() bool {
		lv.mu.Lock()
		defer lv.mu.Unlock()
		return len(ln.queue) > 0
	}
	r := bufio.NewReaderSize(idleReader{s, waiting, &ln.arrived}, 64<<10)
	var batch []blocks.Block
	var idx []int
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		select {
		case lv.storeq <- stored{batch, idx}:
		case <-ctx.Done():
			return ctx.Err()
		}
		batch, idx, size = nil, nil, 0
		return nil
	}
	for {
		status, data, err := readBlock(r, ln.choke)
		if err != nil {
			flush()
			return err
		}
		// Only this goroutine takes from the queue: look now, take once
		// the answer is checked, so the block is never free to ask again.
		lv.mu.Lock()
		if status == statusUnchoked {
			lv.sched.unchoked(id)
			lv.signal()
			lv.mu.Unlock()
			continue
		}
		if status == statusWithheld && len(ln.queue) > 0 {
			i := ln.queue[0]
			ln.queue = ln.queue[1:]
			ln.inflight -= lv.sched.sizes[i]
			lv.sched.withheld(id, i, !ln.cancelled[i])
			delete(ln.cancelled, i)
			lv.signal()
			lv.mu.Unlock()
			continue
		}
		if len(ln.queue) == 0 {
			lv.mu.Unlock()
			flush()
			return fmt.Errorf("%w: an answer nobody asked for", errProtocol)
		}
		i := ln.queue[0]
		lv.mu.Unlock()
		c := lv.items[i].c
		ok := status == statusBlock
		if ok {
			if got, err := c.Prefix().Sum(data); err != nil || !got.Equals(c) {
				// Dropped as if the peer lacked it, so another is asked.
				lv.d.damaged.Add(1)
				if lv.d.e.damaged(id, c) {
					flush()
					return fmt.Errorf("peer %s sent wrong bytes for %s", id, c)
				}
				ok, data = false, nil
			}
		}
		if ok {
			lv.d.touch()
			lv.d.e.count(id, int64(len(data)), 1, false)
		}
		lv.mu.Lock()
		ln.queue = ln.queue[1:]
		ln.inflight -= lv.sched.sizes[i]
		delete(ln.cancelled, i)
		first := lv.sched.answered(id, i, ok, int64(len(data)))
		if first {
			lv.cancelAt(id, i)
		}
		lv.signal()
		lv.mu.Unlock()
		if first {
			b, _ := blocks.NewBlockWithCid(data, c)
			batch, idx = append(batch, b), append(idx, i)
			size += len(data)
		}
		if size >= storeBytes || len(batch) >= storeBlocks || (r.Buffered() == 0 && len(batch) > 0) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

// idleReader reads a lane's stream. While answers are awaited, a read
// that sees nothing for ioTimeout fails: a peer that stops in the middle
// of an answer is cut off, and the blocks it sent before are stored,
// instead of holding the level forever. An idle lane waits as long as
// it likes.
type idleReader struct {
	s       network.Stream
	waiting func() bool
	arrived *atomic.Int64
}

func (r idleReader) Read(p []byte) (int, error) {
	if r.waiting() {
		r.s.SetReadDeadline(time.Now().Add(ioTimeout))
	} else {
		r.s.SetReadDeadline(time.Time{})
	}
	n, err := r.s.Read(p)
	r.arrived.Add(int64(n))
	return n, err
}
