package pollen_test

import (
	"context"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/live"
)

// A follower given a second ticket whose holder lies: the holder
// replays the folder's first version, then pushes a version signed by
// another key. The follower keeps the newest true version, its mirror
// is untouched, and the lie is said on its live folder.
func TestLiveRefusesForgedAndReplayed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	src := filepath.Join(t.TempDir(), "shared")
	writeFile(t, filepath.Join(src, "a.txt"), []byte("v1"))
	sharer, li, tk := shareLive(t, ctx, src)
	first := li.Record // version 1's, signed by the folder's key
	writeFile(t, filepath.Join(src, "a.txt"), []byte("v2"))
	v2 := waitVersion(t, sharer, 2, 20*time.Second)
	f, mirror := follow(t, ctx, tk)
	waitMirrors(t, src, []string{mirror}, 30*time.Second)

	// The liar: a libp2p host that answers any follower with the folder's
	// first record, true but old, then with one signed by another key.
	other, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	evil, err := cid.Decode("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku") // the empty file
	if err != nil {
		t.Fatal(err)
	}
	forged, err := live.Sign(other, evil, 9, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	asked := make(chan struct{}, 1)
	h.SetStreamHandler(live.Proto, func(st network.Stream) {
		defer st.Close()
		asked <- struct{}{}
		for _, raw := range [][]byte{first, forged.Raw} {
			st.Write(append(binary.AppendUvarint(nil, uint64(len(raw))), raw...))
			time.Sleep(300 * time.Millisecond)
		}
		io.Copy(io.Discard, st) // until the follower hangs up
	})
	if _, err := f.Follow(ctx, pollen.Ticket{Live: li.Name, Peer: peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}}, mirror); err != nil {
		t.Fatal(err)
	}
	select {
	case <-asked:
	case <-ctx.Done():
		t.Fatal("the follower did not ask the second ticket's holder")
	}

	var got pollen.LiveInfo
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		lvs, _ := f.Lives()
		got = lvs[0]
		if strings.Contains(got.Err, "not signed by the folder's key") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the forged record was not said: %+v", got)
		}
	}
	if got.Seq != 2 || got.Root != v2.Root {
		t.Fatalf("the follower went to version %d (%s), want 2 (%s)", got.Seq, got.Root, v2.Root)
	}
	if b, _ := os.ReadFile(filepath.Join(mirror, "a.txt")); string(b) != "v2" {
		t.Fatalf("the mirror's file is %q", b)
	}
	t.Logf("refused: %s", got.Err)
}
