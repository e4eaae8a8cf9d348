package pollen

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"
)

// A dial nobody answers (a closed port) is refused, and a get does not
// wait for that source; a dial that runs out of time is not: the peer
// may be behind a full link.
func TestRefusedDial(t *testing.T) {
	gone, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	at := peer.AddrInfo{ID: gone.ID(), Addrs: gone.Addrs()}
	gone.Close()
	h, err := libp2p.New(libp2p.NoListenAddrs)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = h.Connect(ctx, at)
	if err == nil || !refused(err) {
		t.Errorf("dial of a closed port: %v, not refused", err)
	}
	if err := fmt.Errorf("connect: %w", context.DeadlineExceeded); refused(err) {
		t.Errorf("%v counted refused", err)
	}
}
