package swarm

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/pnet"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

// A node-wide private network: every connection is encrypted a second
// time with a pre-shared key, so the node talks only to nodes holding the
// same key (Kubo's swarm.key, the same file format). go-libp2p supports
// it over TCP alone: QUIC, WebTransport and WebRTC are off in such a
// network (kubo#8006). A private share (a secret per share, see the
// exchange) keeps every transport; this hides the whole node.

// PSKFile is the name of the key file in a repo, as Kubo names it.
const PSKFile = "swarm.key"

// LoadPSK reads a swarm.key file; a missing file is (nil, nil).
func LoadPSK(path string) (pnet.PSK, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("swarm key: %w", err)
	}
	psk, err := pnet.DecodeV1PSK(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("swarm key %s: %w (want Kubo's format: /key/swarm/psk/1.0.0/, /base16/, 64 hex digits)", path, err)
	}
	return psk, nil
}

// NewPSK returns a new key in swarm.key's format.
func NewPSK() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return []byte("/key/swarm/psk/1.0.0/\n/base16/\n" + hex.EncodeToString(k) + "\n")
}

// pnetOptions are the host's options in a private network: the key, and
// TCP as its one transport.
func pnetOptions(psk pnet.PSK) []libp2p.Option {
	return []libp2p.Option{libp2p.PrivateNetwork(psk), libp2p.Transport(tcp.NewTCPTransport)}
}

// tcpOnly keeps the TCP addresses of addrs (a private network listens on
// nothing else).
func tcpOnly(addrs []ma.Multiaddr) []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, a := range addrs {
		if _, err := a.ValueForProtocol(ma.P_TCP); err == nil {
			out = append(out, a)
		}
	}
	return out
}
