package swarm

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"slices"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	mh "github.com/multiformats/go-multihash"
)

// Tickets' test vectors (docs/protocol.md): each ticket string and what
// it holds; ParseTicket must read each as its fields, and String must
// print the fields as the string. `go test ./swarm -run Vectors -update`
// writes them again.
var update = flag.Bool("update", false, "write the ticket test vectors")

const ticketVectors = "../testdata/protocol/tickets.json"

type ticketVector struct {
	Comment string   `json:"comment"`
	Ticket  string   `json:"ticket"`
	Root    string   `json:"root"`
	Name    string   `json:"name"`
	Peer    string   `json:"peer"`
	Addrs   []string `json:"addrs"`
	Secret  string   `json:"secret_hex,omitempty"`
	Allow   []string `json:"allow,omitempty"`
	Live    string   `json:"live,omitempty"`
	Holders []string `json:"holders,omitempty"` // each address with /p2p/
}

// holderAddrs lists a ticket's holders as addresses with /p2p/.
func holderAddrs(t Ticket) []string {
	var out []string
	for _, h := range t.Holders {
		as, _ := peer.AddrInfoToP2pAddrs(&h)
		for _, a := range as {
			out = append(out, a.String())
		}
	}
	return out
}

func TestTicketVectors(t *testing.T) {
	var vs []ticketVector
	if *update {
		h, _ := mh.Sum([]byte("photos"), mh.SHA2_256, -1)
		root := cid.NewCidV1(cid.DagProtobuf, h)
		id, _ := peer.Decode("12D3KooWAfwBseMkirKwDH4f9WwqgtrC65xxrY4R3gpz4cknuxSt")
		friend, _ := peer.Decode("12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDMp4F9xsM1VFcj6Vpd")
		holder, _ := peer.Decode("12D3KooWSWoLmDjBkuA9xscefbxfC5DxMkVYv1us6hKcghxq7iRi")
		addrs := []ma.Multiaddr{ma.StringCast("/ip4/192.0.2.7/tcp/4001"), ma.StringCast("/ip4/192.0.2.7/udp/4001/quic-v1")}
		for _, tk := range []struct {
			comment string
			t       Ticket
		}{
			{"a public share", Ticket{Root: root, Name: "photos", Peer: peer.AddrInfo{ID: id, Addrs: addrs}}},
			{"no name, no address (a peer found by its ID)", Ticket{Root: root, Peer: peer.AddrInfo{ID: id}}},
			{"a private share", Ticket{Root: root, Name: "photos", Peer: peer.AddrInfo{ID: id, Addrs: addrs[:1]}, Secret: bytes.Repeat([]byte{0x5e}, SecretLen)}},
			{"a private share for two named peers", Ticket{Root: root, Name: "photos", Peer: peer.AddrInfo{ID: id, Addrs: addrs[:1]}, Secret: bytes.Repeat([]byte{0x5e}, SecretLen), Allow: []peer.ID{id, friend}}},
			{"a live folder: its name is a key's peer ID, the root its version when the ticket was made", Ticket{Root: root, Name: "photos", Peer: peer.AddrInfo{ID: id, Addrs: addrs[:1]}, Live: friend}},
			{"a live folder with two more holders, one with two addresses, one found by its ID", Ticket{Root: root, Name: "photos", Peer: peer.AddrInfo{ID: id, Addrs: addrs[:1]}, Live: friend,
				Holders: []peer.AddrInfo{{ID: friend, Addrs: []ma.Multiaddr{ma.StringCast("/ip4/198.51.100.3/tcp/4001"), ma.StringCast("/ip4/198.51.100.3/udp/4001/quic-v1")}}, {ID: holder}}}},
		} {
			v := ticketVector{Comment: tk.comment, Ticket: tk.t.String(), Root: root.String(), Name: tk.t.Name, Peer: id.String()}
			for _, a := range tk.t.Peer.Addrs {
				v.Addrs = append(v.Addrs, a.String())
			}
			if tk.t.Secret != nil {
				v.Secret = hex.EncodeToString(tk.t.Secret)
			}
			for _, p := range tk.t.Allow {
				v.Allow = append(v.Allow, p.String())
			}
			if tk.t.Live != "" {
				v.Live = tk.t.Live.String()
			}
			v.Holders = holderAddrs(tk.t)
			vs = append(vs, v)
		}
		b, _ := json.MarshalIndent(vs, "", "  ")
		if err := os.WriteFile(ticketVectors, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(ticketVectors)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &vs); err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		tk, err := ParseTicket(v.Ticket)
		if err != nil {
			t.Errorf("%s: %v", v.Comment, err)
			continue
		}
		var addrs, allow []string
		for _, a := range tk.Peer.Addrs {
			addrs = append(addrs, a.String())
		}
		for _, p := range tk.Allow {
			allow = append(allow, p.String())
		}
		if tk.Root.String() != v.Root || tk.Name != v.Name || tk.Peer.ID.String() != v.Peer || !slices.Equal(addrs, v.Addrs) ||
			hex.EncodeToString(tk.Secret) != v.Secret || !slices.Equal(allow, v.Allow) ||
			(tk.Live != "" || v.Live != "") && tk.Live.String() != v.Live || !slices.Equal(holderAddrs(tk), v.Holders) {
			t.Errorf("%s: read as %+v", v.Comment, tk)
		}
		if tk.String() != v.Ticket {
			t.Errorf("%s: printed as %s", v.Comment, tk)
		}
	}
}
