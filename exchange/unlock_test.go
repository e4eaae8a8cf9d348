package exchange_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen/exchange"
)

// oneShare is a Gate holding one private share's secret, limited to
// allow when it is not nil, that records who unlocked it.
type oneShare struct {
	secret []byte
	allow  map[peer.ID]bool

	mu       sync.Mutex
	unlocked []peer.ID
}

func (g *oneShare) Serves(p peer.ID, c cid.Cid) bool { return true }

func (g *oneShare) Secret(tag exchange.ShareTag) ([]byte, bool) {
	if tag == exchange.TagOf(g.secret) {
		return g.secret, true
	}
	return nil, false
}

func (g *oneShare) Unlock(p peer.ID, tag exchange.ShareTag) error {
	if g.allow != nil && !g.allow[p] {
		return exchange.ErrNotAllowed
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.unlocked = append(g.unlocked, p)
	return nil
}

func gated(t *testing.T, g exchange.Gate) *node {
	n := &node{h: newHost(t), bs: memStore()}
	n.ex = exchange.New(n.h, n.bs, exchange.Config{Gate: g})
	t.Cleanup(func() { n.ex.Close() })
	return n
}

// TestUnlock: the right secret unlocks, a wrong one is told the holder
// does not hold it (and the holder grants nothing), an allowlist refuses
// a peer not on it, and a node without the share answers like one with
// another secret.
func TestUnlock(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	holder := gated(t, &oneShare{secret: secret})
	getter := newNode(t)
	connect(t, getter, holder)
	ctx := context.Background()
	if err := getter.ex.Unlock(ctx, holder.h.ID(), secret); err != nil {
		t.Fatalf("the right secret: %v", err)
	}
	wrong := bytes.Repeat([]byte{8}, 32)
	if err := getter.ex.Unlock(ctx, holder.h.ID(), wrong); !errors.Is(err, exchange.ErrNotHolder) {
		t.Errorf("a wrong secret: %v, want %v", err, exchange.ErrNotHolder)
	}

	listed := &oneShare{secret: secret, allow: map[peer.ID]bool{"someone else": true}}
	strict := gated(t, listed)
	connect(t, getter, strict)
	if err := getter.ex.Unlock(ctx, strict.h.ID(), secret); !errors.Is(err, exchange.ErrNotAllowed) {
		t.Errorf("not on the list: %v, want %v", err, exchange.ErrNotAllowed)
	}
	if len(listed.unlocked) != 0 {
		t.Errorf("unlocked %v", listed.unlocked)
	}

	bare := newNode(t)
	connect(t, getter, bare)
	if err := getter.ex.Unlock(ctx, bare.h.ID(), secret); !errors.Is(err, exchange.ErrNotHolder) {
		t.Errorf("a node without the share: %v, want %v", err, exchange.ErrNotHolder)
	}
}

// A proof is bound to the nonces and both peers: replaying the getter's
// answer from one exchange in another fails, as does a guess.
func TestUnlockReplay(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	g := &oneShare{secret: secret}
	holder := gated(t, g)
	tag := exchange.TagOf(secret)
	hello := append(tag[:], make([]byte, 32)...) // a nonce of zeros, as a replayer may choose
	var out bytes.Buffer
	in := io.MultiReader(bytes.NewReader(hello), bytes.NewReader(make([]byte, 32)))
	holder.ex.ServeUnlock(struct {
		io.Reader
		io.Writer
	}{in, &out}, "replayer")
	b := out.Bytes()
	if len(b) != 65 || b[64] != 2 {
		t.Fatalf("a guessed proof: answer of %d bytes ending %v, want a bad-proof verdict", len(b), b[len(b)-1:])
	}
	if len(g.unlocked) != 0 {
		t.Errorf("unlocked %v", g.unlocked)
	}
}

// FuzzUnlock: whatever a peer sends on ProtoUnlock, the holder reads a
// fixed number of bytes, answers at most 65, never panics, and grants
// nothing without the secret.
func FuzzUnlock(f *testing.F) {
	secret := bytes.Repeat([]byte{7}, 32)
	tag := exchange.TagOf(secret)
	f.Add(append(tag[:], make([]byte, 64)...))
	f.Add([]byte{})
	f.Add(make([]byte, 48))
	h := newHostB(f)
	g := &oneShare{secret: secret}
	ex := exchange.New(h, memStore(), exchange.Config{Gate: g})
	f.Cleanup(func() { ex.Close() })
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		var out bytes.Buffer
		ex.ServeUnlock(struct {
			io.Reader
			io.Writer
		}{r, &out}, "fuzzer")
		if read := len(in) - r.Len(); read > 80 {
			t.Fatalf("read %d bytes", read)
		}
		if out.Len() > 65 {
			t.Fatalf("answered %d bytes", out.Len())
		}
		if len(g.unlocked) != 0 {
			t.Fatalf("a fuzzer unlocked the share")
		}
	})
}
