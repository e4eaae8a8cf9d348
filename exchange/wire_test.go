package exchange

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	bstore "github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	mh "github.com/multiformats/go-multihash"
)

func testHost(t *testing.T) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func testExchange(t *testing.T) (*Exchange, bstore.Blockstore) {
	t.Helper()
	bs := bstore.NewBlockstore(dssync.MutexWrap(ds.NewMapDatastore()))
	e := New(testHost(t), bs, Config{})
	t.Cleanup(func() { e.Close() })
	return e, bs
}

// fakePeer speaks ProtoHave, saying it holds every block, and
// ProtoBlocks, answering each CID with what answer gives.
func fakePeer(t *testing.T, answer func(cid.Cid) ([]byte, bool)) host.Host {
	h := testHost(t)
	h.SetStreamHandler(ProtoHave, func(s network.Stream) {
		cs, err := readCIDs(bufio.NewReader(s))
		if err != nil {
			s.Reset()
			return
		}
		all := make([]int, len(cs))
		for i := range all {
			all[i] = i
		}
		writeIndexes(bufio.NewWriter(s), all)
		s.Close()
	})
	h.SetStreamHandler(ProtoBlocks, func(s network.Stream) {
		r, w := bufio.NewReader(s), bufio.NewWriter(s)
		for {
			cs, err := readCIDs(r)
			if err != nil {
				s.Reset()
				return
			}
			for _, c := range cs {
				data, ok := answer(c)
				if !ok {
					w.WriteByte(0)
					continue
				}
				w.WriteByte(1)
				w.Write(binary.AppendUvarint(nil, uint64(len(data))))
				w.Write(data)
			}
			w.Flush()
		}
	})
	return h
}

// pollenLiar says it holds every block and answers every request with
// other bytes.
func pollenLiar(t *testing.T) host.Host {
	lie := bytes.Repeat([]byte("lies "), 300)
	return fakePeer(t, func(cid.Cid) ([]byte, bool) { return lie, true })
}

func TestPollenLiarIsCutOffAndNothingStored(t *testing.T) {
	liar := pollenLiar(t)
	getter, gbs := testExchange(t)
	honest, hbs := testExchange(t)
	banned := make(chan peer.ID, 1)
	getter.misbehaving = func(p peer.ID) { banned <- p }

	data := bytes.Repeat([]byte("truth "), 1000)
	leaf, _ := blocks.NewBlockWithCid(data, mustSum(t, cid.Raw, data))
	hbs.Put(context.Background(), leaf)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Only the liar claims the blocks: its bytes are refused, and each
	// fetch stalls. One damaged block could be a bad disk; maxDamaged of
	// them cut the peer off.
	if err := getter.h.Connect(ctx, peer.AddrInfo{ID: liar.ID(), Addrs: liar.Addrs()}); err != nil {
		t.Fatal(err)
	}
	for k := range maxDamaged {
		c := leaf.Cid()
		if k > 0 {
			c = mustSum(t, cid.Raw, fmt.Appendf(nil, "nobody has %d", k))
		}
		err := getter.Fetch(ctx, c, FetchOptions{Stall: 2 * time.Second})
		if err == nil {
			t.Fatal("a fetch only a liar could answer succeeded")
		}
		if k < maxDamaged-1 && getter.h.Network().Connectedness(liar.ID()) != network.Connected {
			t.Fatalf("cut off the liar after %d damaged blocks, want %d", k+1, maxDamaged)
		}
		if ok, _ := gbs.Has(ctx, c); ok {
			t.Fatal("the liar's bytes were stored")
		}
	}
	select {
	case p := <-banned:
		if p != liar.ID() {
			t.Errorf("banned %s, want the liar %s", p, liar.ID())
		}
	case <-time.After(5 * time.Second):
		t.Error("the liar was not reported")
	}
	// With an honest peer, the right bytes arrive.
	if err := getter.h.Connect(ctx, peer.AddrInfo{ID: honest.h.ID(), Addrs: honest.h.Addrs()}); err != nil {
		t.Fatal(err)
	}
	if err := getter.Fetch(ctx, leaf.Cid(), FetchOptions{Stall: 20 * time.Second}); err != nil {
		t.Fatal(err)
	}
	got, err := gbs.Get(ctx, leaf.Cid())
	if err != nil || !bytes.Equal(got.RawData(), data) {
		t.Fatalf("stored %v, %v; want the honest bytes", got, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for getter.h.Network().Connectedness(liar.ID()) == network.Connected && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if getter.h.Network().Connectedness(liar.ID()) == network.Connected {
		t.Error("still connected to a peer that sent wrong bytes")
	}
}

func mustSum(t *testing.T, codec uint64, data []byte) cid.Cid {
	c, err := cid.V1Builder{Codec: codec, MhType: mh.SHA2_256}.Sum(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
