package live

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// The live protocol's test vectors (docs/protocol.md): a request and a
// pushed record as bytes. `go test ./live -run Vectors -update` writes
// them again (only for a deliberate change, which needs a new protocol
// ID).
var update = flag.Bool("update", false, "write the protocol test vectors")

const vectorFile = "../testdata/protocol/live.json"

type liveVectors struct {
	Comment string `json:"comment"`
	// The folder's Ed25519 key: its 32-byte seed, and its name.
	KeySeed string `json:"key_seed_hex"`
	Name    string `json:"name"`
	Request struct {
		Have uint64 `json:"have"`
		Hex  string `json:"hex"`
	} `json:"request"`
	Push struct {
		Root string `json:"root"`
		Seq  uint64 `json:"seq"`
		EOL  string `json:"eol"`
		Hex  string `json:"hex"` // field(record): the record is the rest after the length
	} `json:"push"`
	None string `json:"none_hex"`
}

func TestVectors(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, ed25519.SeedSize)
	k, err := crypto.UnmarshalEd25519PrivateKey(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		t.Fatal(err)
	}
	name, _ := peer.IDFromPrivateKey(k)
	root, _ := cid.Decode("bafybeiagqsdnbi74b6yvcljr4ynpalmceruthgpneqc4egr5gedkm4bf7u")
	eol := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	v, err := Sign(k, root, 3, eol.Add(-Validity))
	if err != nil {
		t.Fatal(err)
	}
	var req, push, none bytes.Buffer
	writeRequest(bufio.NewWriter(&req), name, 2)
	writeRecord(bufio.NewWriter(&push), v.Raw)
	writeRecord(bufio.NewWriter(&none), nil)

	var want liveVectors
	want.Comment = "pollen's /pollen/live/1.0.0; see docs/protocol.md"
	want.KeySeed, want.Name = hex.EncodeToString(seed), name.String()
	want.Request.Have, want.Request.Hex = 2, hex.EncodeToString(req.Bytes())
	want.Push.Root, want.Push.Seq, want.Push.EOL = root.String(), 3, eol.Format(time.RFC3339)
	want.Push.Hex = hex.EncodeToString(push.Bytes())
	want.None = hex.EncodeToString(none.Bytes())
	if *update {
		b, _ := json.MarshalIndent(want, "", "  ")
		if err := os.WriteFile(vectorFile, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(vectorFile)
	if err != nil {
		t.Fatal(err)
	}
	var got liveVectors
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("the vectors changed:\n%+v\nwant\n%+v", got, want)
	}
	// And the file's bytes read back as their meaning.
	rb, _ := hex.DecodeString(got.Request.Hex)
	n, have, err := readRequest(bufio.NewReader(bytes.NewReader(rb)))
	if err != nil || n != name || have != 2 {
		t.Fatalf("request reads as %s %d %v", n, have, err)
	}
	pb, _ := hex.DecodeString(got.Push.Hex)
	raw, err := readRecord(bufio.NewReader(bytes.NewReader(pb)))
	if err != nil {
		t.Fatal(err)
	}
	pv, err := Open(name, raw)
	if err != nil || pv.Seq != 3 || !pv.Root.Equals(root) || !pv.EOL.Equal(eol) {
		t.Fatalf("push reads as %+v %v", pv, err)
	}
}
