package exchange_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	bsmsg "github.com/ipfs/boxo/bitswap/message"
	pb "github.com/ipfs/boxo/bitswap/message/pb"
	bsnetwork "github.com/ipfs/boxo/bitswap/network"
	bsnet "github.com/ipfs/boxo/bitswap/network/bsnet"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	mh "github.com/multiformats/go-multihash"

	"github.com/pollen-p2p/pollen/exchange"
)

// liar is a Bitswap peer that says it has every block and, asked for one,
// sends other bytes under the wanted CID.
type liar struct {
	net bsnetwork.BitSwapNetwork
}

func (l *liar) ReceiveMessage(ctx context.Context, p peer.ID, in bsmsg.BitSwapMessage) {
	out := bsmsg.New(false)
	for _, e := range in.Wantlist() {
		if e.Cancel {
			continue
		}
		if e.WantType == pb.Message_Wantlist_Have {
			out.AddHave(e.Cid)
			continue
		}
		bad, _ := blocks.NewBlockWithCid(bytes.Repeat([]byte("lies "), 200), e.Cid)
		out.AddBlock(bad)
	}
	if !out.Empty() {
		l.net.SendMessage(ctx, p, out)
	}
}
func (l *liar) ReceiveError(error)       {}
func (l *liar) PeerConnected(peer.ID)    {}
func (l *liar) PeerDisconnected(peer.ID) {}

func TestWrongBytesAreNeverStored(t *testing.T) {
	evil := newHost(t)
	l := &liar{net: bsnet.NewFromIpfsHost(evil)}
	l.net.Start(l)
	t.Cleanup(l.net.Stop)

	honest, getter := newNode(t), newNode(t)
	data := bytes.Repeat([]byte("truth "), 1000)
	gc, _ := cid.V1Builder{Codec: cid.Raw, MhType: mh.SHA2_256}.Sum(data)
	good, _ := blocks.NewBlockWithCid(data, gc)
	honest.bs.Put(context.Background(), good)
	// Blocks nobody honest has: only the liar answers for them.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	getter.h.Connect(ctx, peer.AddrInfo{ID: evil.ID(), Addrs: evil.Addrs()})
	for _, s := range []string{"nobody has this", "nor this"} {
		c, _ := cid.V1Builder{Codec: cid.Raw, MhType: mh.SHA2_256}.Sum([]byte(s))
		if err := getter.ex.Fetch(ctx, c, exchange.FetchOptions{Stall: 2 * time.Second}); err == nil {
			t.Fatal("fetch of a block only a liar has succeeded")
		}
		if ok, _ := getter.bs.Has(ctx, c); ok {
			t.Error("the liar's bytes were stored under the wanted CID")
		}
	}
	// Two blocks nobody asked for: the liar is cut off.
	deadline := time.Now().Add(5 * time.Second)
	for getter.h.Network().Connectedness(evil.ID()) == network.Connected && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if getter.h.Network().Connectedness(evil.ID()) == network.Connected {
		t.Error("still connected to a peer that sent wrong bytes twice")
	}

	// With an honest peer too, the right bytes arrive and nothing else is kept.
	connect(t, getter, honest)
	if err := getter.ex.Fetch(ctx, good.Cid(), exchange.FetchOptions{Stall: 25 * time.Second}); err != nil {
		t.Fatal(err)
	}
	got, err := getter.bs.Get(ctx, good.Cid())
	if err != nil || !bytes.Equal(got.RawData(), good.RawData()) {
		t.Fatalf("stored block %v, %v", got, err)
	}
	keys, _ := getter.bs.AllKeysChan(ctx)
	n := 0
	for k := range keys {
		n++
		if k.Hash().String() != good.Cid().Hash().String() {
			t.Errorf("getter stored %s, which it never asked for", k)
		}
	}
	if n != 1 {
		t.Errorf("getter stored %d blocks, want 1", n)
	}
}
