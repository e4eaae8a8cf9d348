package exchange_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"slices"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/pollen-p2p/pollen/exchange"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

// A holder tells a getter over ProtoHaveFetching what it holds and, once,
// what it asked a peer for, lately or from now on; over ProtoHave, what
// it holds only.
func TestHaveSaysWhatIsFetched(t *testing.T) {
	holder, getter := newNode(t), newNode(t)
	_, leaves := importFile(t, holder, 3*testdata.MiB)
	// The holder keeps leaf 0 only.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, c := range leaves[1:] {
		holder.bs.DeleteBlock(ctx, c)
	}
	connect(t, getter, holder)
	holder.ex.NoteAsking([]cid.Cid{leaves[1]}) // before the getter subscribes
	answer := func(r *bufio.Reader, tagged bool) (kind uint64, idx []int) {
		t.Helper()
		h, err := binary.ReadUvarint(r)
		if err != nil {
			t.Fatal(err)
		}
		if tagged {
			kind, h = h&1, h>>1
		}
		for range h {
			i, err := binary.ReadUvarint(r)
			if err != nil {
				t.Fatal(err)
			}
			idx = append(idx, int(i))
		}
		return kind, idx
	}
	// subscribe asks the holder which leaves it holds.
	subscribe := func(id protocol.ID) (network.Stream, *bufio.Reader) {
		t.Helper()
		s, err := getter.h.NewStream(ctx, holder.h.ID(), id)
		if err != nil {
			t.Fatal(err)
		}
		s.SetDeadline(time.Now().Add(10 * time.Second))
		w := bufio.NewWriter(s)
		w.Write(binary.AppendUvarint(nil, uint64(len(leaves))))
		for _, c := range leaves {
			w.Write(binary.AppendUvarint(nil, uint64(c.ByteLen())))
			w.Write(c.Bytes())
		}
		w.Flush()
		return s, bufio.NewReader(s)
	}
	for _, proto := range []struct {
		name   string
		tagged bool
	}{{string(exchange.ProtoHaveFetching), true}, {string(exchange.ProtoHave), false}} {
		id := exchange.ProtoHave
		if proto.tagged {
			id = exchange.ProtoHaveFetching
		}
		s, r := subscribe(id)
		if kind, idx := answer(r, proto.tagged); kind != 0 || !slices.Equal(idx, []int{0}) {
			t.Errorf("%s: first answer kind %d %v, want held [0]", proto.name, kind, idx)
		}
		if proto.tagged {
			if kind, idx := answer(r, true); kind != 1 || !slices.Equal(idx, []int{1}) {
				t.Errorf("%s: kind %d %v, want fetching [1], asked for before", proto.name, kind, idx)
			}
		}
		holder.ex.NoteAsking([]cid.Cid{leaves[2], leaves[0]})
		holder.ex.NoteAsking([]cid.Cid{leaves[2]}) // said once only
		if proto.tagged {
			if kind, idx := answer(r, true); kind != 1 || !slices.Equal(idx, []int{2}) {
				t.Errorf("%s: kind %d %v, want fetching [2]", proto.name, kind, idx)
			}
		}
		// Nothing more: leaf 2 is said once, and ProtoHave says nothing
		// of what is fetched.
		s.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if _, err := r.ReadByte(); err == nil {
			t.Errorf("%s: more than the holder had to say", proto.name)
		}
		s.Reset()
	}
	// Once no get runs at the holder, what it asked for lately is not
	// told: a get that ended or failed would hold those blocks back.
	holder.ex.EndFetches()
	s, r := subscribe(exchange.ProtoHaveFetching)
	if kind, idx := answer(r, true); kind != 0 || !slices.Equal(idx, []int{0}) {
		t.Errorf("no fetch running: first answer kind %d %v, want held [0]", kind, idx)
	}
	s.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := r.ReadByte(); err == nil {
		t.Error("no fetch running: the holder said it fetches blocks")
	}
	s.Reset()
}
