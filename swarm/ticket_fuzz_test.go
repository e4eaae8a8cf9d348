package swarm

import (
	"bytes"
	"slices"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	mh "github.com/multiformats/go-multihash"
)

// A ticket is pasted by a user and written by a stranger: any string
// parses to a ticket or an error, never a panic, and a ticket parsed
// prints back to one that parses to the same.
func FuzzParseTicket(f *testing.F) {
	h, _ := mh.Sum([]byte("pollen"), mh.SHA2_256, -1)
	id, _ := peer.Decode("12D3KooWAfwBseMkirKwDH4f9WwqgtrC65xxrY4R3gpz4cknuxSt")
	t0 := Ticket{Root: cid.NewCidV1(cid.DagProtobuf, h), Name: "photos ünï",
		Peer: peer.AddrInfo{ID: id, Addrs: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/4001")}}}
	f.Add(t0.String())
	t1 := t0
	t1.Secret = make([]byte, SecretLen)
	t1.Allow = []peer.ID{id, id}
	f.Add(t1.String())
	f.Add("pollen1")
	f.Add("pollen1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		tk, err := ParseTicket(s)
		if err != nil {
			return
		}
		again, err := ParseTicket(tk.String())
		if err != nil {
			t.Fatalf("ticket %q printed as %q, which does not parse: %v", s, tk.String(), err)
		}
		if !again.Root.Equals(tk.Root) || again.Name != tk.Name || again.Peer.ID != tk.Peer.ID ||
			!bytes.Equal(again.Secret, tk.Secret) || !slices.Equal(again.Allow, tk.Allow) {
			t.Fatalf("ticket changed through String: %+v against %+v", again, tk)
		}
	})
}
