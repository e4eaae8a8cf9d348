package pollen_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen"
)

// TestDoctorFindsTheHolder: a node given a ticket's peer dials and pings
// it, and judges a transfer possible, directly.
func TestDoctorFindsTheHolder(t *testing.T) {
	nodes := onlineNodes(t, 2)
	a, b := nodes[0], nodes[1]
	src := filepath.Join(t.TempDir(), "hello.txt")
	os.WriteFile(src, []byte("hello, doctor"), 0o644)
	res, err := a.Share(t.Context(), src, pollen.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tk := a.Ticket(res.Root)
	d, err := b.Doctor(t.Context(), pollen.DoctorOptions{Root: res.Root, Name: tk.Name, From: []peer.AddrInfo{tk.Peer}, Ticket: true})
	if err != nil {
		t.Fatal(err)
	}
	c := d.Content
	if c == nil || len(c.Holders) != 1 || c.Verdict != pollen.VerdictOK || c.Stuck || c.Here {
		t.Fatalf("content: %+v", c)
	}
	if h := c.Holders[0]; h.ID != a.ID().String() || !h.Connected || h.Conn != pollen.ConnDirect || h.RTT <= 0 || h.Found[0] != "ticket" {
		t.Errorf("holder: %+v", h)
	}
	if p := b.Peers(); len(p) != 1 || p[0].Kind != pollen.ConnDirect || p[0].Relayed {
		t.Errorf("peers: %+v", p)
	}
	if d.Node.ID != b.ID().String() || d.DHT.On || d.DHT.Verdict == "" {
		t.Errorf("node %+v, DHT %+v", d.Node, d.DHT)
	}

	// Before the network starts there is nothing to diagnose.
	if _, err := openNode(t).Doctor(t.Context(), pollen.DoctorOptions{}); err == nil {
		t.Error("Doctor of an offline node did not fail")
	}
}
