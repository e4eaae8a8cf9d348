package chunker

import (
	"context"
	"errors"
	"fmt"
	"sync"

	dag "github.com/ipfs/boxo/ipld/merkledag"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// writer hands blocks to the store in batches from a goroutine of its own,
// so hashing and reading go on while Badger writes.
type writer struct {
	ctx   context.Context
	st    Store
	batch []blocks.Block
	bytes int
	queue chan batch
	done  chan struct{}
	mu    sync.Mutex
	err   error
}

type batch struct {
	blocks  []blocks.Block
	flushed chan struct{} // closed once written, when someone waits for it
}

func newWriter(ctx context.Context, st Store) *writer {
	w := &writer{ctx: ctx, st: st, queue: make(chan batch, 1), done: make(chan struct{})}
	go w.run()
	return w
}

func (w *writer) run() {
	defer close(w.done)
	for b := range w.queue {
		if w.failed() == nil {
			if err := w.st.PutMany(w.ctx, b.blocks); err != nil {
				w.mu.Lock()
				w.err = fmt.Errorf("store blocks: %w", err)
				w.mu.Unlock()
			}
		}
		if b.flushed != nil {
			close(b.flushed)
		}
	}
}

func (w *writer) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// putBlock queues b for the store.
func (w *writer) putBlock(b blocks.Block) error {
	w.batch = append(w.batch, b)
	w.bytes += len(b.RawData())
	if w.bytes >= flushBytes {
		w.send(nil)
	}
	return w.failed()
}

func (w *writer) put(n ipld.Node) error { return w.putBlock(n) }

func (w *writer) send(flushed chan struct{}) {
	w.queue <- batch{blocks: w.batch, flushed: flushed}
	w.batch, w.bytes = nil, 0
}

// flush waits until everything queued so far is in the store.
func (w *writer) flush() error {
	done := make(chan struct{})
	w.send(done)
	<-done
	return w.failed()
}

// close writes what is left and stops the goroutine.
func (w *writer) close() error {
	if len(w.batch) > 0 {
		w.send(nil)
	}
	close(w.queue)
	<-w.done
	return w.failed()
}

// dagAdder is the ipld.DAGService boxo's directory builder writes through:
// adds go to the batching writer, reads see everything added before them.
type dagAdder struct {
	w  *writer
	st Store
}

var _ ipld.DAGService = (*dagAdder)(nil)

func (d *dagAdder) Add(_ context.Context, n ipld.Node) error { return d.w.put(n) }

func (d *dagAdder) AddMany(_ context.Context, ns []ipld.Node) error {
	for _, n := range ns {
		if err := d.w.put(n); err != nil {
			return err
		}
	}
	return nil
}

func (d *dagAdder) Get(ctx context.Context, c cid.Cid) (ipld.Node, error) {
	if err := d.w.flush(); err != nil {
		return nil, err
	}
	b, err := d.st.Get(ctx, c)
	if err != nil {
		return nil, err
	}
	return decode(b)
}

func (d *dagAdder) GetMany(ctx context.Context, cs []cid.Cid) <-chan *ipld.NodeOption {
	out := make(chan *ipld.NodeOption, len(cs))
	for _, c := range cs {
		n, err := d.Get(ctx, c)
		out <- &ipld.NodeOption{Node: n, Err: err}
	}
	close(out)
	return out
}

var errNoRemove = errors.New("import never removes blocks")

func (d *dagAdder) Remove(context.Context, cid.Cid) error       { return errNoRemove }
func (d *dagAdder) RemoveMany(context.Context, []cid.Cid) error { return errNoRemove }

// decode turns a dag-pb or raw block into a node.
func decode(b blocks.Block) (ipld.Node, error) {
	switch b.Cid().Type() {
	case cid.DagProtobuf:
		return dag.DecodeProtobufBlock(b)
	case cid.Raw:
		return dag.DecodeRawBlock(b)
	default:
		return nil, fmt.Errorf("%s: unsupported codec %#x (UnixFS needs dag-pb or raw)", b.Cid(), b.Cid().Type())
	}
}
