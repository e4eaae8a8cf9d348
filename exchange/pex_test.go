package exchange

import (
	"fmt"
	"slices"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	mh "github.com/multiformats/go-multihash"
)

func rootN(n int) cid.Cid {
	h, _ := mh.Sum([]byte(fmt.Sprint("root", n)), mh.SHA2_256, -1)
	return cid.NewCidV1(cid.DagProtobuf, h)
}

// TestHoldersRemembersRecentPeersOfRecentRoots: the most recent peers of
// a root first, a peer once, and bounded both ways.
func TestHoldersRemembersRecentPeersOfRecentRoots(t *testing.T) {
	var h holders
	r := rootN(0)
	h.add(r, "a")
	h.add(r, "b")
	h.add(r, "a")
	if got := h.of(r); !slices.Equal(got, []peer.ID{"a", "b"}) {
		t.Errorf("holders %v, want [a b]: most recent first, once each", got)
	}
	for i := range maxPexPeers + 5 {
		h.add(r, peer.ID(fmt.Sprint("p", i)))
	}
	if got := h.of(r); len(got) != maxPexPeers || got[0] != peer.ID(fmt.Sprint("p", maxPexPeers+4)) {
		t.Errorf("%d holders, first %v: want the %d most recent", len(got), got[0], maxPexPeers)
	}
	for i := 1; i <= maxPexRoots; i++ {
		h.add(rootN(i), "x")
	}
	if got := h.of(r); got != nil {
		t.Errorf("the oldest root still remembered: %v", got)
	}
	if got := h.of(rootN(maxPexRoots)); !slices.Equal(got, []peer.ID{"x"}) {
		t.Errorf("the newest root: %v", got)
	}
}
