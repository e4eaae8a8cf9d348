package swarm

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// TestPrivateNetwork: nodes holding the same swarm.key connect; a node
// without it, or with another, cannot; and none of them listens on QUIC.
func TestPrivateNetwork(t *testing.T) {
	dir := t.TempDir()
	keyFile := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, NewPSK(), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	one, other := keyFile("one"), keyFile("other")
	start := func(key string) *Swarm {
		t.Helper()
		cfg := Config{
			Listen:  []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0"), ma.StringCast("/ip4/127.0.0.1/udp/0/quic-v1")},
			Offline: true, NoMDNS: true,
		}
		if key != "" {
			psk, err := LoadPSK(key)
			if err != nil || psk == nil {
				t.Fatalf("load %s: %v", key, err)
			}
			cfg.PSK = psk
		}
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := start(one), start(one)
	for _, addr := range a.Host.Addrs() {
		if _, err := addr.ValueForProtocol(ma.P_TCP); err != nil {
			t.Errorf("a private network listens on %s", addr)
		}
	}
	connect := func(from, to *Swarm) error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return from.Host.Connect(ctx, peer.AddrInfo{ID: to.Host.ID(), Addrs: to.Host.Addrs()})
	}
	if err := connect(b, a); err != nil {
		t.Fatalf("same key: %v", err)
	}
	if err := connect(start(other), a); err == nil {
		t.Error("another key connected")
	}
	if err := connect(start(""), a); err == nil {
		t.Error("no key connected")
	}

	if psk, err := LoadPSK(filepath.Join(dir, "missing")); psk != nil || err != nil {
		t.Errorf("a missing key file: %v, %v", psk, err)
	}
	os.WriteFile(filepath.Join(dir, "bad"), []byte("not a key"), 0o600)
	if _, err := LoadPSK(filepath.Join(dir, "bad")); err == nil {
		t.Error("a bad key file loaded")
	}
}
