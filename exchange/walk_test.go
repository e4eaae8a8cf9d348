package exchange_test

import (
	"context"
	"sync"
	"testing"
	"time"

	dag "github.com/ipfs/boxo/ipld/merkledag"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"

	"github.com/pollen-p2p/pollen/chunker"
	"github.com/pollen-p2p/pollen/exchange"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

// planner is a sink that waits for blocks as a Placer does: every link of
// a node it is given is a place waiting, until the block comes. It
// records the most places that waited at once.
type planner struct {
	bs interface {
		PutMany(context.Context, []blocks.Block) error
	}
	mu      sync.Mutex
	waiting map[string]int
	most    int
}

func (p *planner) Put(ctx context.Context, bl []blocks.Block) error {
	p.mu.Lock()
	for _, b := range bl {
		if b.Cid().Type() == cid.Raw {
			delete(p.waiting, string(b.Cid().Hash()))
		}
	}
	p.mu.Unlock()
	return p.bs.PutMany(ctx, bl)
}

func (p *planner) Wants(c cid.Cid) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waiting[string(c.Hash())] > 0
}

func (p *planner) Local(_ context.Context, b blocks.Block) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.waiting, string(b.Cid().Hash()))
	if b.Cid().Type() != cid.DagProtobuf {
		return nil
	}
	nd, err := dag.DecodeProtobuf(b.RawData())
	if err != nil {
		return err
	}
	for _, l := range nd.Links() {
		p.waiting[string(l.Cid.Hash())]++
	}
	waiting := 0
	for _, n := range p.waiting {
		waiting += n
	}
	p.most = max(p.most, waiting)
	return nil
}

// TestWalkHoldsAWindowNotTheTree fetches a folder of 30 folders of 100
// small files, asking 150 blocks at a time: a getter that planned the
// tree a level at a time would wait for all 3,000 files at once; the
// walk waits for the folders and about one window of files. A fetch of
// what is stored already goes depth first and waits for one folder.
func TestWalkHoldsAWindowNotTheTree(t *testing.T) {
	const folders, files, win = 30, 100, 150
	dir := testdata.Wide(t, folders, files)
	seeder, getter := newNode(t), newNode(t)
	res, err := chunker.Import(context.Background(), seeder.bs, dir, chunker.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	connect(t, getter, seeder)
	defer exchange.SetWindow(win)()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, run := range []string{"from the seeder", "from the store"} {
		sink := &planner{bs: getter.bs, waiting: map[string]int{string(res.Root.Hash()): 1}}
		if err := getter.ex.Fetch(ctx, res.Root, exchange.FetchOptions{Stall: 10 * time.Second, Sink: sink}); err != nil {
			t.Fatalf("%s: %v", run, err)
		}
		if len(sink.waiting) != 0 {
			t.Errorf("%s: %d blocks never given to the sink", run, len(sink.waiting))
		}
		bound := folders + files
		if run == "from the seeder" {
			bound = folders + win + files
		}
		if sink.most > bound {
			t.Errorf("%s: the sink waited for %d blocks at once; the walk should hold at most %d (%d folders, a window of %d, a folder of %d)",
				run, sink.most, bound, folders, win, files)
		}
		t.Logf("%s: at most %d blocks waited at once", run, sink.most)
	}
}
