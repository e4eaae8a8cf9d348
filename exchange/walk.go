package exchange

import (
	"context"
	"fmt"

	"github.com/ipfs/go-cid"
)

// The walk is the order a download brings a DAG's blocks and hands them
// to its sink: depth first, a window of missing blocks at a time. A node
// is read for its links only when the walk reaches it, not when it
// arrives, so a download holds the links of the nodes on its path and a
// window of blocks in flight: memory bounded by the DAG's depth and the
// width of its folders, not by how many files it holds. A sink that
// plans where blocks go (a Placer) is handed each node at the same
// moment, so it plans no further ahead than the walk.

// window is the most missing blocks asked for at once: one ProtoHave
// list, well inside what a server lets one peer hold (maxCIDsPerPeer)
// with several downloads from it at once, and enough blocks that a round
// trip between windows costs little. A variable for tests.
var window = 1 << 15

// frame is a node on the walk's path: its links, and how far the walk
// has gone through them. A node not read yet has only its CID (a read
// one is on the path only while it has links).
type frame struct {
	node  cid.Cid
	here  bool // the node was stored before this download: count it when read
	links []link
	i     int
}

type walk struct {
	d     *download
	root  cid.Cid
	stack []frame
	// seen holds the nodes walked, without a sink: a node that occurs
	// many times is walked once. A sink says itself what it still needs.
	seen map[string]bool
}

// run brings every block of the DAG under root into the store (or the
// sink) and hands the sink what it wants, in the walk's order.
func (d *download) run(ctx context.Context, root cid.Cid) error {
	w := &walk{d: d, root: root, seen: map[string]bool{}}
	w.stack = []frame{{links: []link{{c: root, size: blockGuess}}}}
	for first := true; len(w.stack) > 0; first = false {
		missing, err := w.gather(ctx)
		if err != nil {
			return err
		}
		d.report() // what is here is counted before what comes
		if len(missing) == 0 {
			continue
		}
		if err := d.fetchLevel(ctx, missing); err != nil {
			return err
		}
		if first && root.Type() != cid.DagProtobuf {
			d.total(root, 0) // a file of one block: it just came
		}
		// The nodes that came are read next, the first on top.
		for i := len(missing) - 1; i >= 0; i-- {
			if c := missing[i].c; c.Type() == cid.DagProtobuf {
				w.stack = append(w.stack, frame{node: c})
			}
		}
	}
	return nil
}

// gather walks from the top of the stack until it has a window of
// missing blocks, or the DAG is walked: nodes stored are read and their
// links followed, leaves stored are counted and handed to the sink if it
// wants them.
func (w *walk) gather(ctx context.Context) ([]link, error) {
	d := w.d
	// No block arrives while the walk gathers (fetchLevel has returned):
	// the window's places are counted here and handed over at the end.
	asked := map[string]int{}
	defer func() {
		d.mu.Lock()
		d.asked = asked
		d.mu.Unlock()
	}()
	var missing []link
	for steps := 1; len(w.stack) > 0 && len(missing) < window; steps++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if steps%1024 == 0 {
			d.touch() // walking what is here is progress too
		}
		top := &w.stack[len(w.stack)-1]
		if top.links == nil {
			c, here := top.node, top.here
			w.pop()
			links, err := w.read(ctx, c, here)
			if err != nil {
				return nil, err
			}
			if len(links) > 0 {
				w.stack = append(w.stack, frame{links: links})
			}
			continue
		}
		if top.i == len(top.links) {
			w.pop()
			continue
		}
		l := top.links[top.i]
		top.i++
		h := string(l.c.Hash())
		if n, ok := asked[h]; ok {
			asked[h] = n + 1
			continue
		}
		ok, err := d.e.store.Has(ctx, l.c)
		if err != nil {
			return nil, err
		}
		switch {
		case !ok && d.o.Sink != nil && !d.o.Sink.Wants(l.c):
			// Not fetched: the sink takes part of the DAG (a listing of
			// folders, some files), or has failed. Its bytes leave the
			// total, so the bar tells the part's.
			d.mu.Lock()
			d.p.Total = max(d.p.Total-int64(l.size), d.p.Done, 1)
			d.mu.Unlock()
		case !ok:
			asked[h] = 1
			missing = append(missing, l)
		case l.c.Type() == cid.DagProtobuf:
			w.stack = append(w.stack, frame{node: l.c, here: true})
		default:
			if err := w.leaf(ctx, l.c); err != nil {
				return nil, err
			}
		}
	}
	return missing, nil
}

// pop drops the top frame. Its slot is cleared: the stack's array
// outlives it, and a frame left there would keep its node's links (a
// folder's, every one a CID) until the stack grew that tall again.
func (w *walk) pop() {
	w.stack[len(w.stack)-1] = frame{}
	w.stack = w.stack[:len(w.stack)-1]
}

// read reads a stored node the walk reached, hands it to the sink and
// returns its links, or none when the walk need not go below it.
func (w *walk) read(ctx context.Context, c cid.Cid, here bool) ([]link, error) {
	d := w.d
	sink := d.o.Sink
	if sink == nil {
		if w.seen[string(c.Hash())] {
			return nil, nil
		}
		w.seen[string(c.Hash())] = true
	} else if !sink.Wants(c) {
		return nil, nil
	}
	b, err := d.e.store.Get(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("block %s: %w", c, err)
	}
	links, err := linksOf(b)
	if err != nil {
		return nil, err
	}
	if c == w.root {
		d.total(c, len(b.RawData()), links...)
	}
	if here {
		d.here(len(b.RawData()))
	}
	if sink != nil {
		if err := sink.Local(ctx, b); err != nil {
			return nil, err
		}
	}
	return links, nil
}

// leaf counts a stored leaf and hands it to the sink if it waits for it.
func (w *walk) leaf(ctx context.Context, c cid.Cid) error {
	d := w.d
	sink := d.o.Sink
	if sink == nil || !sink.Wants(c) {
		n, err := d.e.store.GetSize(ctx, c)
		if err != nil {
			return fmt.Errorf("block %s: %w", c, err)
		}
		if c == w.root {
			d.total(c, n)
		}
		d.here(n)
		return nil
	}
	b, err := d.e.store.Get(ctx, c)
	if err != nil {
		return fmt.Errorf("block %s: %w", c, err)
	}
	if c == w.root {
		d.total(c, len(b.RawData()))
	}
	d.here(len(b.RawData()))
	return sink.Local(ctx, b)
}

// total sets the bytes to transfer from the root: its own size and the
// DAG sizes its links declare (Tsize), known from the first block on.
// A raw root's size is read from the store (size 0).
func (d *download) total(root cid.Cid, size int, links ...link) {
	if size == 0 && root.Type() != cid.DagProtobuf {
		size, _ = d.e.store.GetSize(context.Background(), root)
	}
	total := int64(size)
	for _, l := range links {
		total += int64(l.size)
	}
	d.mu.Lock()
	d.p.Total = max(total, d.p.Done, 1)
	d.mu.Unlock()
}
