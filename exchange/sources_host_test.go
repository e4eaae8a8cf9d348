package exchange_test

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen/exchange"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

// A getter connected first to a peer holding nothing, and only later to
// the seeder its fetch was pointed at (a seeder behind a full link
// answers a dial late), asks Bitswap for nothing until the seeder is
// met, and takes every block from it over pollen's protocols: the
// seeder's Bitswap server, which does not super-seed, sends nothing.
// Without the source named, the level goes to Bitswap at once.
func TestFetchWaitsForItsSource(t *testing.T) {
	const size = 8 * testdata.MiB
	for _, named := range []bool{true, false} {
		name := map[bool]string{true: "source named", false: "no source"}[named]
		t.Run(name, func(t *testing.T) {
			seeder, empty, getter := newNode(t), newNode(t), newNode(t)
			root, leaves := importFile(t, seeder, size)
			// The getter begins at the level of leaves, as one that got
			// the root from another getter.
			copyBlocks(t, seeder, getter, root)
			connect(t, getter, empty)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			wanted := make(chan int, 1) // Bitswap's wants just before the seeder is met
			go func() {
				time.Sleep(1500 * time.Millisecond)
				wanted <- getter.ex.Bitswap().Wants
				getter.h.Connect(ctx, peer.AddrInfo{ID: seeder.h.ID(), Addrs: seeder.h.Addrs()})
			}()
			o := exchange.FetchOptions{Stall: 20 * time.Second}
			if named {
				o.Sources = []peer.ID{seeder.h.ID()}
			}
			var last exchange.Progress
			o.Report = func(p exchange.Progress) { last = p }
			if err := getter.ex.Fetch(ctx, root, o); err != nil {
				t.Fatal(err)
			}
			wants, sent := <-wanted, seeder.ex.Bitswap().BlocksSent
			t.Logf("wants before the seeder: %d; the seeder's Bitswap server sent %d blocks", wants, sent)
			if !named {
				if wants != len(leaves) {
					t.Errorf("Bitswap wanted %d blocks before the seeder was met, want the level's %d", wants, len(leaves))
				}
				return
			}
			if wants != 0 || sent != 0 {
				t.Errorf("Bitswap wanted %d blocks before the seeder was met, and its server sent %d; want none", wants, sent)
			}
			if got := last.Peers[seeder.h.ID()]; got < size {
				t.Errorf("the seeder sent %d bytes, want the file's %d", got, size)
			}
		})
	}
}
