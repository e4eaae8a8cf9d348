package exchange_test

import (
	"context"
	"os"
	"testing"
	"time"

	bstore "github.com/ipfs/boxo/blockstore"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen/chunker"
	"github.com/pollen-p2p/pollen/exchange"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testdata.RemoveShared()
	os.Exit(code)
}

func memStore() bstore.Blockstore {
	return bstore.NewBlockstore(dssync.MutexWrap(ds.NewMapDatastore()))
}

func newHost(t *testing.T) host.Host { return newHostB(t) }

func newHostB(t testing.TB) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

type node struct {
	h  host.Host
	bs bstore.Blockstore
	ex *exchange.Exchange
}

func newNode(t *testing.T) *node {
	n := &node{h: newHost(t), bs: memStore()}
	n.ex = exchange.New(n.h, n.bs, exchange.Config{})
	t.Cleanup(func() { n.ex.Close() })
	return n
}

func connect(t *testing.T, a, b *node) { connectB(t, a, b) }

func connectB(t testing.TB, a, b *node) {
	t.Helper()
	if err := a.h.Connect(context.Background(), peer.AddrInfo{ID: b.h.ID(), Addrs: b.h.Addrs()}); err != nil {
		t.Fatal(err)
	}
}

func TestFetchMixedFolder(t *testing.T) {
	src, err := testdata.SharedMixed()
	if err != nil {
		t.Fatal(err)
	}
	seeder, getter := newNode(t), newNode(t)
	res, err := chunker.Import(context.Background(), seeder.bs, src, chunker.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	connect(t, getter, seeder)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var last exchange.Progress
	err = getter.ex.Fetch(ctx, res.Root, exchange.FetchOptions{Stall: 10 * time.Second, Report: func(p exchange.Progress) { last = p }})
	if err != nil {
		t.Fatalf("%v (progress %+v)", err, last)
	}
}
