package pollen_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen"
)

// A follow that knows no holder, only the folder's name, finds its
// newest record in the DHT and its blocks from whoever provides them.
func TestLiveFollowByName(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	sharer, follower := dhtOfThree(t)
	src := filepath.Join(t.TempDir(), "shared")
	writeFile(t, filepath.Join(src, "a.txt"), []byte("found by name"))
	writeFile(t, filepath.Join(src, "sub/b.txt"), []byte("and its blocks by their CIDs"))
	li, err := sharer.ShareLive(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	mirror := filepath.Join(t.TempDir(), "m")
	start := time.Now()
	byName, err := pollen.ParseLive("/ipns/" + ipns.NameFromPeer(li.Name).String())
	if err != nil || byName.Live != li.Name || byName.Peer.ID != "" {
		t.Fatalf("the name read as %+v, %v", byName, err)
	}
	if _, err := follower.Follow(ctx, byName, mirror); err != nil {
		t.Fatal(err)
	}
	took := waitMirrors(t, src, []string{mirror}, time.Minute)
	t.Logf("mirrored through the DHT in %s (%s after the follow)", took, time.Since(start))
	// The version is noted just after the mirror is written.
	if l := waitVersion(t, follower, 1, 10*time.Second); l.Root != li.Root {
		t.Fatalf("the follow holds %s, want %s", l.Root, li.Root)
	}
}

// What follow takes: a live folder's ticket, or its IPNS name in any of
// its spellings; a share's ticket or anything else is refused.
func TestParseLive(t *testing.T) {
	name, _ := peer.Decode("12D3KooWSWoLmDjBkuA9xscefbxfC5DxMkVYv1us6hKcghxq7iRi")
	k51 := ipns.NameFromPeer(name).String()
	empty, _ := cid.Decode("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku")
	live := pollen.Ticket{Root: empty, Live: name, Peer: peer.AddrInfo{ID: name}}
	for _, s := range []string{live.String(), "/ipns/" + k51, k51, " " + k51 + "\n", name.String()} {
		got, err := pollen.ParseLive(s)
		if err != nil || got.Live != name {
			t.Errorf("%q: %+v %v", s, got, err)
		}
	}
	share := pollen.Ticket{Root: empty, Peer: peer.AddrInfo{ID: name}}
	for _, s := range []string{share.String(), "k51nope", "/ipfs/" + share.Root.String(), ""} {
		if got, err := pollen.ParseLive(s); !errors.Is(err, pollen.ErrBadTicket) {
			t.Errorf("%q: %+v %v, want a bad ticket", s, got, err)
		}
	}
}
