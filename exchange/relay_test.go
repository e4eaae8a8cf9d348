package exchange_test

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	bstore "github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/pollen-p2p/pollen/chunker"
	"github.com/pollen-p2p/pollen/exchange"
)

// TestFetchThroughLimitedRelay: the seeder is reached only through a
// relay that ends each connection after 4 MiB, and the getter dials it
// again at once, as a get does. Bitswap does not use such connections,
// so every block comes over pollen's lanes, which must open again on
// each new connection. The getter's disk is slow, so the lanes of the
// connection that ended are still storing what they read when the next
// one is up and identified (as in CI, where a get stalled so).
func TestFetchThroughLimitedRelay(t *testing.T) {
	relayHost := newHost(t)
	rc := relayv2.DefaultResources()
	rc.Limit = &relayv2.RelayLimit{Duration: time.Hour, Data: 4 << 20}
	r, err := relayv2.New(relayHost, relayv2.WithResources(rc))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	relayInfo := peer.AddrInfo{ID: relayHost.ID(), Addrs: relayHost.Addrs()}

	hidden := func(bs bstore.Blockstore) *node {
		h, err := libp2p.New(libp2p.NoListenAddrs, libp2p.EnableRelay())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		n := &node{h: h, bs: bs}
		n.ex = exchange.New(h, n.bs, exchange.Config{})
		t.Cleanup(func() { n.ex.Close() })
		return n
	}
	seeder, getter := hidden(memStore()), hidden(slowStore{memStore()})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := seeder.h.Connect(ctx, relayInfo); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Reserve(ctx, seeder.h, relayInfo); err != nil {
		t.Fatal(err)
	}

	src := filepath.Join(t.TempDir(), "f")
	data := make([]byte, 16<<20)
	rand.Read(data)
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := chunker.Import(ctx, seeder.bs, src, chunker.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}

	circuit, err := ma.NewMultiaddr(relayHost.Addrs()[0].String() + "/p2p/" + relayHost.ID().String() + "/p2p-circuit")
	if err != nil {
		t.Fatal(err)
	}
	seederInfo := peer.AddrInfo{ID: seeder.h.ID(), Addrs: []ma.Multiaddr{circuit}}
	sub, err := getter.h.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	dials := 0
	dial := func() {
		dials++
		if err := getter.h.Connect(ctx, seederInfo); err != nil && ctx.Err() == nil {
			t.Errorf("dialling the seeder through the relay: %v", err)
		}
	}
	dial()
	fetched := make(chan error, 1)
	go func() {
		fetched <- getter.ex.Fetch(ctx, res.Root, exchange.FetchOptions{Stall: 15 * time.Second})
	}()
	for {
		select {
		case err := <-fetched:
			if err != nil {
				t.Fatalf("after %d connections through the relay: %v", dials, err)
			}
			t.Logf("16 MiB over %d connections of at most 4 MiB", dials)
			if dials < 4 {
				t.Errorf("the relay ended only %d connections; want one every 4 MiB", dials-1)
			}
			return
		case ev := <-sub.Out():
			if e := ev.(event.EvtPeerConnectednessChanged); e.Peer == seeder.h.ID() && e.Connectedness == network.NotConnected {
				dial()
			}
		}
	}
}

// slowStore takes a while to write, as a busy disk does.
type slowStore struct{ bstore.Blockstore }

func (s slowStore) PutMany(ctx context.Context, bl []blocks.Block) error {
	time.Sleep(200 * time.Millisecond)
	return s.Blockstore.PutMany(ctx, bl)
}
