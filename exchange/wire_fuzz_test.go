package exchange

import (
	"bufio"
	"bytes"
	"slices"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	mh "github.com/multiformats/go-multihash"
)

// The codecs read what a stranger sends: whatever the bytes, they return
// a value or an error within their limits, never panic or allocate past
// them, and what they accept writes back to the same bytes.

func FuzzReadCIDs(f *testing.F) {
	h, _ := mh.Sum([]byte("pollen"), mh.SHA2_256, -1)
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	writeCIDs(w, []cid.Cid{cid.NewCidV1(cid.Raw, h), cid.NewCidV1(cid.DagProtobuf, h), cid.NewCidV0(h)})
	f.Add(buf.Bytes())
	f.Add([]byte{0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := readCIDs(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			return
		}
		if len(cs) > maxList {
			t.Fatalf("%d CIDs past the limit", len(cs))
		}
		var out bytes.Buffer
		w := bufio.NewWriter(&out)
		if err := writeCIDs(w, cs); err != nil {
			t.Fatal(err)
		}
		again, err := readCIDs(bufio.NewReader(&out))
		if err != nil || len(again) != len(cs) {
			t.Fatalf("a list read back differs: %v, %d against %d", err, len(again), len(cs))
		}
		for i := range cs {
			if !again[i].Equals(cs[i]) {
				t.Fatalf("CID %d read back as %s, was %s", i, again[i], cs[i])
			}
		}
	})
}

func FuzzReadIndexes(f *testing.F) {
	var buf bytes.Buffer
	writeIndexes(bufio.NewWriter(&buf), []int{0, 5, 1 << 20})
	f.Add(buf.Bytes(), 2<<20)
	f.Add([]byte{3, 1, 2}, 2)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		if n < 0 || n > maxList {
			return
		}
		idx, err := readIndexes(bufio.NewReader(bytes.NewReader(data)), n)
		if err != nil {
			return
		}
		if len(idx) > n {
			t.Fatalf("%d indexes for a list of %d", len(idx), n)
		}
		for _, i := range idx {
			if i < 0 || i >= n {
				t.Fatalf("index %d outside a list of %d", i, n)
			}
		}
	})
}

func FuzzReadTagged(f *testing.F) {
	var buf bytes.Buffer
	writeTagged(bufio.NewWriter(&buf), kindFetching, []int{0, 5, 1 << 20})
	f.Add(buf.Bytes(), 2<<20)
	f.Add([]byte{7, 1, 2, 0}, 3)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f}, 2)
	f.Fuzz(func(t *testing.T, data []byte, n int) {
		if n < 0 || n > maxList {
			return
		}
		kind, idx, err := readTagged(bufio.NewReader(bytes.NewReader(data)), n)
		if err != nil {
			return
		}
		if kind != kindHolds && kind != kindFetching || len(idx) > n {
			t.Fatalf("kind %d, %d indexes for a list of %d", kind, len(idx), n)
		}
		for _, i := range idx {
			if i < 0 || i >= n {
				t.Fatalf("index %d outside a list of %d", i, n)
			}
		}
		var out bytes.Buffer
		writeTagged(bufio.NewWriter(&out), kind, idx)
		k2, again, err := readTagged(bufio.NewReader(&out), n)
		if err != nil || k2 != kind || !slices.Equal(again, idx) {
			t.Fatalf("read back as kind %d %v (%v), was kind %d %v", k2, again, err, kind, idx)
		}
	})
}

func FuzzReadBlock(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte{1, 3, 'a', 'b', 'c'})
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte{2})
	f.Add([]byte{3, 1, 1, 'x'})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, choke := range []bool{false, true} {
			status, b, err := readBlock(bufio.NewReader(bytes.NewReader(data)), choke)
			if err != nil {
				continue
			}
			if len(b) > maxBlockLen || (status != statusBlock && b != nil) {
				t.Fatalf("block of %d bytes, status %d", len(b), status)
			}
			if status > statusBlock && !choke {
				t.Fatalf("status %d over ProtoBlocks", status)
			}
		}
	})
}

// FuzzReadMessage reads ProtoBlocksChoke's messages as a server does.
func FuzzReadMessage(f *testing.F) {
	var buf bytes.Buffer
	writeMessage(bufio.NewWriter(&buf), msgCancel, []cid.Cid{vectorCID(cid.Raw, "a leaf")})
	f.Add(buf.Bytes())
	f.Add([]byte{0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		kind, n, err := readMessageHead(r)
		if err != nil {
			return
		}
		if n > maxList || kind != msgWant && kind != msgCancel {
			t.Fatalf("kind %d, %d CIDs", kind, n)
		}
		cs, err := readCIDList(r, n)
		if err != nil {
			return
		}
		var out bytes.Buffer
		writeMessage(bufio.NewWriter(&out), kind, cs)
		r = bufio.NewReader(&out)
		k2, n2, err := readMessageHead(r)
		again, err2 := readCIDList(r, n2)
		if err != nil || err2 != nil || k2 != kind || len(again) != len(cs) {
			t.Fatalf("read back as kind %d, %d CIDs (%v %v)", k2, len(again), err, err2)
		}
		for i := range cs {
			if !again[i].Equals(cs[i]) {
				t.Fatalf("CID %d read back as %s, was %s", i, again[i], cs[i])
			}
		}
	})
}

func FuzzReadPeers(f *testing.F) {
	id, _ := peer.Decode("12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN")
	var buf bytes.Buffer
	writePeers(bufio.NewWriter(&buf), []peer.AddrInfo{{ID: id, Addrs: []ma.Multiaddr{
		ma.StringCast("/ip4/192.0.0.131/tcp/4011"),
		ma.StringCast("/ip4/192.0.0.129/tcp/4011/p2p/12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/p2p-circuit"),
	}}})
	f.Add(buf.Bytes())
	f.Add([]byte{0})
	f.Add([]byte{33})
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := readPeers(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			return
		}
		if len(ps) > maxPexPeers {
			t.Fatalf("%d peers past the limit", len(ps))
		}
		var out bytes.Buffer
		if err := writePeers(bufio.NewWriter(&out), ps); err != nil {
			t.Fatal(err)
		}
		again, err := readPeers(bufio.NewReader(&out))
		if err != nil || len(again) != len(ps) {
			t.Fatalf("peers read back differ: %v, %d against %d", err, len(again), len(ps))
		}
		for i := range ps {
			if again[i].ID != ps[i].ID || len(again[i].Addrs) != len(ps[i].Addrs) || len(ps[i].Addrs) > maxPexAddrs {
				t.Fatalf("peer %d read back as %v, was %v", i, again[i], ps[i])
			}
		}
	})
}
