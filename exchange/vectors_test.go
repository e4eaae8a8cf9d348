package exchange

import (
	"bufio"
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

// The wire formats' test vectors (docs/protocol.md): messages as bytes,
// and what they mean. Another implementation reads the same files; here
// the decoders must read each message as its meaning, and the encoders
// must write the meaning as those bytes. `go test ./exchange -run
// Vectors -update` writes them again (only for a deliberate change of
// the protocol, which then needs a new protocol ID).
var update = flag.Bool("update", false, "write the protocol test vectors")

const vectorDir = "../testdata/protocol/"

type wireVectors struct {
	Comment string `json:"comment"`
	// ProtoHave's request and ProtoBlocks' requests: a list of CIDs.
	CIDList struct {
		CIDs []string `json:"cids"`
		Hex  string   `json:"hex"`
	} `json:"cid_list"`
	// ProtoHave's answers: indexes into the list.
	Indexes struct {
		ListLen int    `json:"list_len"`
		Indexes []int  `json:"indexes"`
		Hex     string `json:"hex"`
	} `json:"indexes"`
	// ProtoHaveFetching's answers: tagged indexes, held (kind 0) or
	// being fetched (kind 1).
	Tagged []struct {
		ListLen int    `json:"list_len"`
		Kind    int    `json:"kind"`
		Indexes []int  `json:"indexes"`
		Hex     string `json:"hex"`
	} `json:"tagged"`
	// ProtoBlocks' answers, one per CID asked: a block or "not here".
	Blocks []struct {
		Block string `json:"block_hex,omitempty"` // absent: not here
		Hex   string `json:"hex"`
	} `json:"blocks"`
	// ProtoBlocksChoke's messages: asks (kind 0) and cancels (kind 1).
	ChokeMessages []chokeMessage `json:"choke_messages"`
	// ProtoBlocksChoke's answers beyond ProtoBlocks': withheld (status
	// 2) and unchoked (status 3).
	ChokeAnswers []chokeAnswer `json:"choke_answers"`
	// ProtoPeers' request (a root) and answer (peers and addresses).
	PeersRequest struct {
		Root string `json:"root"`
		Hex  string `json:"hex"`
	} `json:"peers_request"`
	PeersAnswer struct {
		Peers []struct {
			ID    string   `json:"id"`
			Addrs []string `json:"addrs"`
		} `json:"peers"`
		Hex string `json:"hex"`
	} `json:"peers_answer"`
}

type chokeMessage struct {
	Kind int      `json:"kind"`
	CIDs []string `json:"cids"`
	Hex  string   `json:"hex"`
}

type chokeAnswer struct {
	Status int    `json:"status"`
	Hex    string `json:"hex"`
}

func vectorCID(codec uint64, data string) cid.Cid {
	h, _ := mh.Sum([]byte(data), mh.SHA2_256, -1)
	return cid.NewCidV1(codec, h)
}

func TestWireVectors(t *testing.T) {
	var v wireVectors
	if *update {
		v.Comment = "pollen's wire formats; see docs/protocol.md"
		cs := []cid.Cid{vectorCID(cid.Raw, "a leaf"), vectorCID(cid.DagProtobuf, "a node")}
		var b bytes.Buffer
		writeCIDs(bufio.NewWriter(&b), cs)
		for _, c := range cs {
			v.CIDList.CIDs = append(v.CIDList.CIDs, c.String())
		}
		v.CIDList.Hex = hex.EncodeToString(b.Bytes())
		b.Reset()
		v.Indexes.ListLen, v.Indexes.Indexes = 200, []int{1, 0, 130}
		writeIndexes(bufio.NewWriter(&b), v.Indexes.Indexes)
		v.Indexes.Hex = hex.EncodeToString(b.Bytes())
		for _, kind := range []int{kindHolds, kindFetching} {
			b.Reset()
			idx := []int{1, 0, 130}[kind:]
			writeTagged(bufio.NewWriter(&b), kind, idx)
			v.Tagged = append(v.Tagged, struct {
				ListLen int    `json:"list_len"`
				Kind    int    `json:"kind"`
				Indexes []int  `json:"indexes"`
				Hex     string `json:"hex"`
			}{200, kind, idx, hex.EncodeToString(b.Bytes())})
		}
		v.Blocks = append(v.Blocks, struct {
			Block string `json:"block_hex,omitempty"`
			Hex   string `json:"hex"`
		}{hex.EncodeToString([]byte("a leaf")), "0106" + hex.EncodeToString([]byte("a leaf"))}, struct {
			Block string `json:"block_hex,omitempty"`
			Hex   string `json:"hex"`
		}{"", "00"})
		for _, kind := range []int{msgWant, msgCancel} {
			b.Reset()
			writeMessage(bufio.NewWriter(&b), kind, cs[kind:])
			m := chokeMessage{Kind: kind, Hex: hex.EncodeToString(b.Bytes())}
			for _, c := range cs[kind:] {
				m.CIDs = append(m.CIDs, c.String())
			}
			v.ChokeMessages = append(v.ChokeMessages, m)
		}
		v.ChokeAnswers = []chokeAnswer{{statusWithheld, "02"}, {statusUnchoked, "03"}}
		v.PeersRequest.Root = cs[1].String()
		v.PeersRequest.Hex = hex.EncodeToString(append([]byte{byte(cs[1].ByteLen())}, cs[1].Bytes()...))
		id, _ := peer.Decode("12D3KooWAfwBseMkirKwDH4f9WwqgtrC65xxrY4R3gpz4cknuxSt")
		addrs := []string{"/ip4/192.0.2.7/tcp/4001", "/ip6/2001:db8::7/udp/4001/quic-v1"}
		b.Reset()
		var mas []ma.Multiaddr
		for _, a := range addrs {
			mas = append(mas, ma.StringCast(a))
		}
		writePeers(bufio.NewWriter(&b), []peer.AddrInfo{{ID: id, Addrs: mas}})
		v.PeersAnswer.Peers = append(v.PeersAnswer.Peers, struct {
			ID    string   `json:"id"`
			Addrs []string `json:"addrs"`
		}{id.String(), addrs})
		v.PeersAnswer.Hex = hex.EncodeToString(b.Bytes())
		writeVectors(t, "wire.json", v)
	}
	readVectors(t, "wire.json", &v)

	got, err := readCIDs(bufio.NewReader(bytes.NewReader(unhex(t, v.CIDList.Hex))))
	if err != nil || len(got) != len(v.CIDList.CIDs) {
		t.Fatalf("CID list: %v, %v", got, err)
	}
	for i, c := range got {
		if c.String() != v.CIDList.CIDs[i] {
			t.Errorf("CID %d: %s, want %s", i, c, v.CIDList.CIDs[i])
		}
	}
	var b bytes.Buffer
	writeCIDs(bufio.NewWriter(&b), got)
	if hex.EncodeToString(b.Bytes()) != v.CIDList.Hex {
		t.Errorf("CID list written as %x", b.Bytes())
	}

	idx, err := readIndexes(bufio.NewReader(bytes.NewReader(unhex(t, v.Indexes.Hex))), v.Indexes.ListLen)
	if err != nil || !slices.Equal(idx, v.Indexes.Indexes) {
		t.Errorf("indexes: %v, %v", idx, err)
	}
	b.Reset()
	writeIndexes(bufio.NewWriter(&b), v.Indexes.Indexes)
	if hex.EncodeToString(b.Bytes()) != v.Indexes.Hex {
		t.Errorf("indexes written as %x", b.Bytes())
	}

	if len(v.Tagged) == 0 {
		t.Error("no vectors for ProtoHaveFetching's answers")
	}
	for _, tv := range v.Tagged {
		kind, idx, err := readTagged(bufio.NewReader(bytes.NewReader(unhex(t, tv.Hex))), tv.ListLen)
		if err != nil || kind != tv.Kind || !slices.Equal(idx, tv.Indexes) {
			t.Errorf("tagged %s: kind %d, %v, %v", tv.Hex, kind, idx, err)
		}
		b.Reset()
		writeTagged(bufio.NewWriter(&b), tv.Kind, tv.Indexes)
		if hex.EncodeToString(b.Bytes()) != tv.Hex {
			t.Errorf("tagged kind %d %v written as %x", tv.Kind, tv.Indexes, b.Bytes())
		}
	}

	for i, bl := range v.Blocks {
		for _, choke := range []bool{false, true} {
			status, data, err := readBlock(bufio.NewReader(bytes.NewReader(unhex(t, bl.Hex))), choke)
			if err != nil || (status == statusBlock) != (bl.Block != "") || hex.EncodeToString(data) != bl.Block {
				t.Errorf("block answer %d: %x %v %v", i, data, status, err)
			}
		}
	}
	if len(v.ChokeMessages) == 0 || len(v.ChokeAnswers) == 0 {
		t.Error("no vectors for ProtoBlocksChoke")
	}
	for _, m := range v.ChokeMessages {
		r := bufio.NewReader(bytes.NewReader(unhex(t, m.Hex)))
		kind, n, err := readMessageHead(r)
		got, err2 := readCIDList(r, n)
		if err != nil || err2 != nil || kind != m.Kind || len(got) != len(m.CIDs) {
			t.Errorf("choke message %s: kind %d, %v, %v %v", m.Hex, kind, got, err, err2)
			continue
		}
		for k, c := range got {
			if c.String() != m.CIDs[k] {
				t.Errorf("choke message %s: CID %d is %s", m.Hex, k, c)
			}
		}
		b.Reset()
		writeMessage(bufio.NewWriter(&b), kind, got)
		if hex.EncodeToString(b.Bytes()) != m.Hex {
			t.Errorf("choke message kind %d written as %x", kind, b.Bytes())
		}
	}
	for _, a := range v.ChokeAnswers {
		status, data, err := readBlock(bufio.NewReader(bytes.NewReader(unhex(t, a.Hex))), true)
		if err != nil || status != a.Status || data != nil {
			t.Errorf("choke answer %s: %d %x %v", a.Hex, status, data, err)
		}
		if _, _, err := readBlock(bufio.NewReader(bytes.NewReader(unhex(t, a.Hex))), false); err == nil {
			t.Errorf("choke answer %s read over ProtoBlocks", a.Hex)
		}
	}

	root, err := readField(bufio.NewReader(bytes.NewReader(unhex(t, v.PeersRequest.Hex))), maxCIDLen)
	if c, cerr := cid.Cast(root); err != nil || cerr != nil || c.String() != v.PeersRequest.Root {
		t.Errorf("peers request: %x %v %v", root, err, cerr)
	}
	ps, err := readPeers(bufio.NewReader(bytes.NewReader(unhex(t, v.PeersAnswer.Hex))))
	if err != nil || len(ps) != len(v.PeersAnswer.Peers) {
		t.Fatalf("peers answer: %v %v", ps, err)
	}
	for i, p := range ps {
		want := v.PeersAnswer.Peers[i]
		if p.ID.String() != want.ID || len(p.Addrs) != len(want.Addrs) {
			t.Errorf("peer %d: %v", i, p)
			continue
		}
		for k, a := range p.Addrs {
			if a.String() != want.Addrs[k] {
				t.Errorf("peer %d address %d: %s, want %s", i, k, a, want.Addrs[k])
			}
		}
	}
}

type unlockVectors struct {
	Comment     string `json:"comment"`
	Secret      string `json:"secret_hex"`
	Tag         string `json:"tag_hex"`
	Getter      string `json:"getter"`
	Holder      string `json:"holder"`
	GetterNonce string `json:"getter_nonce_hex"`
	HolderNonce string `json:"holder_nonce_hex"`
	HolderProof string `json:"holder_proof_hex"`
	GetterProof string `json:"getter_proof_hex"`
}

func TestUnlockVectors(t *testing.T) {
	var v unlockVectors
	if *update {
		v.Comment = "/pollen/unlock/1.0.0; see docs/protocol.md"
		v.Secret = hex.EncodeToString(bytes.Repeat([]byte{0x5e}, 32))
		v.Getter, v.Holder = "12D3KooWAfwBseMkirKwDH4f9WwqgtrC65xxrY4R3gpz4cknuxSt", "12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDMp4F9xsM1VFcj6Vpd"
		v.GetterNonce, v.HolderNonce = hex.EncodeToString(bytes.Repeat([]byte{1}, 32)), hex.EncodeToString(bytes.Repeat([]byte{2}, 32))
	}
	if !*update {
		readVectors(t, "unlock.json", &v)
	}
	secret := unhex(t, v.Secret)
	getter, err1 := peer.Decode(v.Getter)
	holder, err2 := peer.Decode(v.Holder)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	tag := TagOf(secret)
	gn, hn := unhex(t, v.GetterNonce), unhex(t, v.HolderNonce)
	hp := hex.EncodeToString(proof(secret, "holder", gn, hn, getter, holder))
	gp := hex.EncodeToString(proof(secret, "getter", gn, hn, getter, holder))
	if *update {
		v.Tag, v.HolderProof, v.GetterProof = hex.EncodeToString(tag[:]), hp, gp
		writeVectors(t, "unlock.json", v)
	}
	if hex.EncodeToString(tag[:]) != v.Tag || hp != v.HolderProof || gp != v.GetterProof {
		t.Errorf("tag %x, holder proof %s, getter proof %s: not the vectors'", tag, hp, gp)
	}
}

func writeVectors(t *testing.T, name string, v any) {
	t.Helper()
	b, _ := json.MarshalIndent(v, "", "  ")
	if err := os.WriteFile(vectorDir+name, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readVectors(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(vectorDir + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
