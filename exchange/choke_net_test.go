package exchange

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"testing"
	"time"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// chokeStream opens a ProtoBlocksChoke stream from a new host to e;
// trading, e counts that host as holding blocks it fetches.
func chokeStream(t *testing.T, ctx context.Context, e *Exchange, trading bool) (network.Stream, *bufio.Reader, *bufio.Writer) {
	t.Helper()
	h := testHost(t)
	if trading {
		e.trades.add(h.ID())
	}
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

// While it fetches, a node serves chokeSlots getters that hold blocks it
// fetches at once: the next is withheld its block, told when a slot
// frees, and then served; a getter holding none of them is served
// meanwhile.
func TestFetchingNodeChokesPastItsSlots(t *testing.T) {
	e, bs := testExchange(t)
	b := randomBlock(t, 1000)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bs.Put(ctx, b)
	type getter struct {
		s network.Stream
		r *bufio.Reader
		w *bufio.Writer
	}
	var gs []getter
	for k := range chokeSlots + 1 {
		s, r, w := chokeStream(t, ctx, e, true)
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
	_, r, w := chokeStream(t, ctx, e, false)
	writeMessage(w, msgWant, []cid.Cid{b.Cid()})
	if status, _, err := readBlock(r, true); err != nil || status != statusBlock {
		t.Fatalf("a getter holding nothing fetched here: status %d (%v), want served", status, err)
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
	_, r, w := chokeStream(t, ctx, e, false)
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

// trickler says it holds the first half of every list asked of it and
// sends those blocks from bs at about 5 KB/s: a getter whose upload is
// capped near nothing.
func trickler(t *testing.T, bs interface {
	Get(context.Context, cid.Cid) (blocks.Block, error)
}) host.Host {
	h := taker(t)
	h.SetStreamHandler(ProtoBlocksChoke, func(s network.Stream) {
		defer s.Reset()
		r := bufio.NewReader(s)
		for {
			kind, n, err := readMessageHead(r)
			if err != nil {
				return
			}
			cs, err := readCIDList(r, n)
			if err != nil || kind != msgWant {
				continue
			}
			for _, c := range cs {
				b, err := bs.Get(context.Background(), c)
				if err != nil {
					return
				}
				data := b.RawData()
				s.Write(binary.AppendUvarint([]byte{statusBlock}, uint64(len(data))))
				for k := 0; k < len(data); k += 512 {
					if _, err := s.Write(data[k:min(k+512, len(data))]); err != nil {
						return
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
		}
	})
	return h
}

// A getter that sends at a trickle holds nothing back either: what only
// it and the seeder hold, the seeder sends once the trickle is judged.
// (At the trickle, the 32 leaves it holds would take half an hour; the
// fetch fails if nothing arrives for 20 s.)
func TestTricklerHoldsNothingBack(t *testing.T) {
	seeder, sbs := testExchange(t)
	getter, gbs := testExchange(t)
	root, leaves := fileDAG(t, sbs, 64)
	tr := trickler(t, sbs)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, to := range []peer.AddrInfo{{ID: tr.ID(), Addrs: tr.Addrs()}, peerInfo(seeder)} {
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
}
