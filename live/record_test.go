package live

import (
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	mh "github.com/multiformats/go-multihash"
)

func testKey(t testing.TB) (crypto.PrivKey, peer.ID) {
	t.Helper()
	k, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return k, id
}

func testRoot(t testing.TB, s string) cid.Cid {
	t.Helper()
	h, err := mh.Sum([]byte(s), mh.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(cid.DagProtobuf, h)
}

func sign(t testing.TB, k crypto.PrivKey, root cid.Cid, seq uint64) []byte {
	t.Helper()
	v, err := Sign(k, root, seq, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return v.Raw
}

func TestOpen(t *testing.T) {
	k, name := testKey(t)
	other, _ := testKey(t)
	root := testRoot(t, "a")
	good := sign(t, k, root, 3)
	expired, err := Sign(k, root, 4, time.Now().Add(-2*Validity))
	if err != nil {
		t.Fatal(err)
	}
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 1
	for _, tc := range []struct {
		name string
		raw  []byte
		want error
	}{
		{"good", good, nil},
		{"another key", sign(t, other, root, 3), ErrForged},
		{"expired", expired.Raw, ErrStale},
		{"empty", nil, ErrBad},
		{"garbage", []byte("not a record"), ErrBad},
		{"too big", make([]byte, MaxRecord+1), ErrBad},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Open(name, tc.raw)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open: %v, want %v", err, tc.want)
			}
			if tc.want == nil && (v.Seq != 3 || !v.Root.Equals(root) || v.Name != name) {
				t.Fatalf("Open = %+v", v)
			}
		})
	}
	// A byte changed anywhere is refused, whichever way.
	if _, err := Open(name, flipped); err == nil {
		t.Fatal("a record with a byte changed was accepted")
	}
}

func TestBook(t *testing.T) {
	k, name := testKey(t)
	other, _ := testKey(t)
	r1, r2 := testRoot(t, "1"), testRoot(t, "2")
	b := NewBook()
	steps := []struct {
		what string
		raw  []byte
		news bool
		want error
	}{
		{"first", sign(t, k, r1, 1), true, nil},
		{"newer", sign(t, k, r2, 2), true, nil},
		{"replayed older", sign(t, k, r1, 1), false, ErrStale},
		{"same again, signed later", sign(t, k, r2, 2), false, nil},
		{"same number, other root", sign(t, k, r1, 2), false, ErrStale},
		{"forged newer", sign(t, other, r1, 9), false, ErrForged},
		{"skips ahead", sign(t, k, r1, 7), true, nil},
	}
	for _, s := range steps {
		_, news, err := b.Accept(name, s.raw)
		if news != s.news || !errors.Is(err, s.want) {
			t.Fatalf("%s: news %v err %v, want %v %v", s.what, news, err, s.news, s.want)
		}
	}
	if v, ok := b.Latest(name); !ok || v.Seq != 7 || !v.Root.Equals(r1) {
		t.Fatalf("latest %+v", v)
	}
}

// FuzzOpen: whatever a peer sends as a record is refused or opened,
// never a panic, and an opened one names its root.
func FuzzOpen(f *testing.F) {
	k, name := testKey(f)
	f.Add(sign(f, k, testRoot(f, "x"), 1))
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x00})
	f.Fuzz(func(t *testing.T, raw []byte) {
		v, err := Open(name, raw)
		if err == nil && !v.Root.Defined() {
			t.Fatal("opened a record without a root")
		}
	})
}
