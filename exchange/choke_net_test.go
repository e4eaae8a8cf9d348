package exchange

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// chokeStream opens a ProtoBlocksChoke stream from a new host to e.
func chokeStream(t *testing.T, ctx context.Context, e *Exchange) (network.Stream, *bufio.Reader, *bufio.Writer) {
	t.Helper()
	h := testHost(t)
	if err := h.Connect(ctx, peerInfo(e)); err != nil {
		t.Fatal(err)
	}
	s, err := h.NewStream(ctx, e.h.ID(), ProtoBlocksChoke)
	if err != nil {
		t.Fatal(err)
	}
	s.SetDeadline(time.Now().Add(30 * time.Second))
	return s, bufio.NewReader(s), bufio.NewWriter(s)
}

func randomBlock(t *testing.T, n int) blocks.Block {
	t.Helper()
	data := make([]byte, n)
	rand.Read(data)
	b, _ := blocks.NewBlockWithCid(data, mustSum(t, cid.Raw, data))
	return b
}

// While it fetches, a node serves chokeSlots getters at once: the next
// is withheld its block, told when a slot frees, and then served.
func TestFetchingNodeChokesPastItsSlots(t *testing.T) {
	e, bs := testExchange(t)
	b := randomBlock(t, 1000)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bs.Put(ctx, b)
	e.fetches.Add(1) // as while a get runs here
	type getter struct {
		s network.Stream
		r *bufio.Reader
		w *bufio.Writer
	}
	var gs []getter
	for k := range chokeSlots + 1 {
		s, r, w := chokeStream(t, ctx, e)
		gs = append(gs, getter{s, r, w})
		writeMessage(w, msgWant, []cid.Cid{b.Cid()})
		status, data, err := readBlock(r, true)
		want := statusBlock
		if k == chokeSlots {
			want = statusWithheld
		}
		if err != nil || status != want {
			t.Fatalf("getter %d: status %d (%v), want %d", k, status, err, want)
		}
		if status == statusBlock && !bytes.Equal(data, b.RawData()) {
			t.Fatalf("getter %d: wrong bytes", k)
		}
	}
	gs[0].s.Close() // a served getter is done: its slot frees
	last := gs[chokeSlots]
	if status, _, err := readBlock(last.r, true); err != nil || status != statusUnchoked {
		t.Fatalf("the withheld getter heard %d (%v), want unchoked", status, err)
	}
	writeMessage(last.w, msgWant, []cid.Cid{b.Cid()})
	if status, data, err := readBlock(last.r, true); err != nil || status != statusBlock || !bytes.Equal(data, b.RawData()) {
		t.Fatalf("asked again once unchoked: status %d (%v)", status, err)
	}
}

// A getter's cancel reaches the server while it sends what was asked
// before: what it had not sent is withheld, not sent.
func TestCancelledBlocksAreNotSent(t *testing.T) {
	e, bs := testExchange(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var cs []cid.Cid
	for range 48 {
		b := randomBlock(t, 1<<20)
		bs.Put(ctx, b)
		cs = append(cs, b.Cid())
	}
	_, r, w := chokeStream(t, ctx, e)
	// Asked for 48 MiB, more than the streams below hold unread: the
	// server is still sending when the cancel comes.
	writeMessage(w, msgWant, cs)
	writeMessage(w, msgCancel, cs[40:])
	for i := range cs {
		status, _, err := readBlock(r, true)
		want := statusBlock
		if i >= 40 {
			want = statusWithheld
		}
		if err != nil || status != want {
			t.Fatalf("block %d: status %d (%v), want %d", i, status, err, want)
		}
	}
}

// taker says it holds the first half of every list asked of it and
// withholds every block: a getter that takes and never sends. It never
// unchokes.
func taker(t *testing.T) host.Host {
	h := testHost(t)
	h.SetStreamHandler(ProtoHave, func(s network.Stream) {
		cs, err := readCIDs(bufio.NewReader(s))
		if err != nil {
			s.Reset()
			return
		}
		half := make([]int, len(cs)/2)
		for i := range half {
			half[i] = i
		}
		writeIndexes(bufio.NewWriter(s), half)
		s.Close()
	})
	h.SetStreamHandler(ProtoBlocks, func(s network.Stream) { s.Reset() }) // spoken, so a pollen peer; never chosen
	h.SetStreamHandler(ProtoBlocksChoke, func(s network.Stream) {
		r, w := bufio.NewReader(s), bufio.NewWriter(s)
		for {
			kind, n, err := readMessageHead(r)
			if err != nil {
				s.Reset()
				return
			}
			cs, err := readCIDList(r, n)
			if err != nil {
				s.Reset()
				return
			}
			if kind == msgWant {
				for range cs {
					w.WriteByte(statusWithheld)
				}
				w.Flush()
			}
		}
	})
	return h
}

// A getter that only takes holds nothing back: what it says it holds
// and will not send, the seeder sends, though it super-seeds.
func TestTakerHoldsNothingBack(t *testing.T) {
	seeder, sbs := testExchange(t)
	getter, gbs := testExchange(t)
	root, leaves := fileDAG(t, sbs, 64)
	tk := taker(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, to := range []peer.AddrInfo{{ID: tk.ID(), Addrs: tk.Addrs()}, peerInfo(seeder)} {
		if err := getter.h.Connect(ctx, to); err != nil {
			t.Fatal(err)
		}
	}
	if err := getter.Fetch(ctx, root, FetchOptions{Stall: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
	for _, l := range leaves {
		if ok, _ := gbs.Has(ctx, l.Cid()); !ok {
			t.Fatalf("leaf %s missing", l.Cid())
		}
	}
	if got := getter.Stats()[tk.ID()]; got.Received != 0 {
		t.Errorf("received %d bytes from the taker", got.Received)
	}
}
