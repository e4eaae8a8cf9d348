package swarm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/multiformats/go-multibase"
)

// Ticket is what a sharer hands out: the root CID, the name it is shared
// under, and a peer that has it with the addresses to dial; for a private
// share, also the secret a peer proves it holds to be served, and the
// peers the share is limited to.
type Ticket struct {
	Root cid.Cid
	Name string // may be empty
	Peer peer.AddrInfo
	// Secret is a private share's secret (SecretLen bytes); nil for a
	// public share.
	Secret []byte
	// Allow lists the only peers a private share is served to; empty for
	// any peer that proves the secret.
	Allow []peer.ID
	// Live is a live folder's name (the peer ID of its key): the
	// follower takes the newest version signed by it, of which Root is
	// one. Empty for a fixed root.
	Live peer.ID
	// Holders are other peers that hold the root (a live folder's
	// followers), dialled besides Peer: the sharer may be gone.
	Holders []peer.AddrInfo
}

// MaxTicketHolders bounds the holders a ticket names.
const MaxTicketHolders = 8

// SecretLen is the length of a private share's secret.
const SecretLen = 32

// Private reports whether the ticket is a private share's.
func (t Ticket) Private() bool { return t.Secret != nil }

// A ticket's fields after its addresses are extensions: an empty field
// (no address is empty) starts them, and each is a type byte and its
// value. A parser refuses a type it does not know: a newer pollen may
// have added a rule (who may be served) an older one would break.
const (
	extSecret = 1 // the share's secret
	extAllow  = 2 // a peer the share is limited to, binary peer ID; one field each
	extLive   = 3 // a live folder's name, binary peer ID of its key
	extHolder = 4 // another holder's address ending in /p2p/ID (or /p2p/ID alone); one field each
)

// ticketPrefix starts every ticket, so it is recognisable and versioned.
const ticketPrefix = "pollen1"

// ErrBadTicket is wrapped by every ParseTicket error.
var ErrBadTicket = errors.New("bad ticket")

// String encodes the ticket as ticketPrefix followed by base32 (lowercase,
// no padding) of: CID, name, peer ID, then each address, each
// length-prefixed with a uvarint.
func (t Ticket) String() string {
	var b []byte
	field := func(p []byte) {
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
	}
	field(t.Root.Bytes())
	field([]byte(t.Name))
	id, _ := t.Peer.ID.MarshalBinary()
	field(id)
	for _, a := range t.Peer.Addrs {
		field(a.Bytes())
	}
	if t.Secret != nil || len(t.Allow) > 0 || t.Live != "" || len(t.Holders) > 0 {
		field(nil)
		if t.Secret != nil {
			field(append([]byte{extSecret}, t.Secret...))
		}
		for _, p := range t.Allow {
			id, _ := p.MarshalBinary()
			field(append([]byte{extAllow}, id...))
		}
		if t.Live != "" {
			id, _ := t.Live.MarshalBinary()
			field(append([]byte{extLive}, id...))
		}
		for _, h := range t.Holders {
			as, _ := peer.AddrInfoToP2pAddrs(&h)
			for _, a := range as {
				field(append([]byte{extHolder}, a.Bytes()...))
			}
		}
	}
	s, _ := multibase.Encode(multibase.Base32, b)
	return ticketPrefix + s[1:] // drop multibase's own "b" prefix
}

// ParseTicket reads a ticket, saying what is wrong with a bad one.
func ParseTicket(s string) (Ticket, error) {
	var t Ticket
	s = strings.TrimSpace(s)
	rest, ok := strings.CutPrefix(s, ticketPrefix)
	if !ok {
		return t, fmt.Errorf("%w: does not start with %q", ErrBadTicket, ticketPrefix)
	}
	_, b, err := multibase.Decode("b" + rest)
	if err != nil {
		return t, fmt.Errorf("%w: not base32 (cut short or mistyped?)", ErrBadTicket)
	}
	var fields [][]byte
	for len(b) > 0 {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return t, fmt.Errorf("%w: truncated", ErrBadTicket)
		}
		fields = append(fields, b[k:k+int(n)])
		b = b[k+int(n):]
	}
	if len(fields) < 3 {
		return t, fmt.Errorf("%w: truncated", ErrBadTicket)
	}
	if t.Root, err = cid.Cast(fields[0]); err != nil {
		return t, fmt.Errorf("%w: bad CID: %v", ErrBadTicket, err)
	}
	t.Name = string(fields[1])
	if err := t.Peer.ID.UnmarshalBinary(fields[2]); err != nil {
		return t, fmt.Errorf("%w: bad peer ID: %v", ErrBadTicket, err)
	}
	addrs, exts := fields[3:], [][]byte(nil)
	for i, f := range addrs {
		if len(f) == 0 {
			addrs, exts = addrs[:i], addrs[i+1:]
			break
		}
	}
	for i, f := range addrs {
		a, err := ma.NewMultiaddrBytes(f)
		if err != nil {
			return t, fmt.Errorf("%w: bad address %d: %v", ErrBadTicket, i+1, err)
		}
		t.Peer.Addrs = append(t.Peer.Addrs, a)
	}
	if err := t.parseExtensions(exts); err != nil {
		return t, err
	}
	return t, nil
}

// parseExtensions reads the fields after the addresses' end.
func (t *Ticket) parseExtensions(fields [][]byte) error {
	var holders []ma.Multiaddr
	for _, f := range fields {
		if len(f) == 0 {
			return fmt.Errorf("%w: empty extension", ErrBadTicket)
		}
		switch v := f[1:]; f[0] {
		case extSecret:
			if len(v) != SecretLen || t.Secret != nil {
				return fmt.Errorf("%w: bad secret", ErrBadTicket)
			}
			t.Secret = v
		case extAllow:
			var p peer.ID
			if err := p.UnmarshalBinary(v); err != nil {
				return fmt.Errorf("%w: bad allowed peer: %v", ErrBadTicket, err)
			}
			t.Allow = append(t.Allow, p)
		case extLive:
			var p peer.ID
			if err := p.UnmarshalBinary(v); err != nil || t.Live != "" {
				return fmt.Errorf("%w: bad live folder name", ErrBadTicket)
			}
			if _, err := p.ExtractPublicKey(); err != nil {
				return fmt.Errorf("%w: live folder name holds no key", ErrBadTicket)
			}
			t.Live = p
		case extHolder:
			a, err := ma.NewMultiaddrBytes(v)
			if err != nil {
				return fmt.Errorf("%w: bad holder address: %v", ErrBadTicket, err)
			}
			holders = append(holders, a)
		default:
			return fmt.Errorf("%w: made by a newer pollen (extension %d); update pollen", ErrBadTicket, f[0])
		}
	}
	if len(t.Allow) > 0 && t.Secret == nil {
		return fmt.Errorf("%w: allowed peers without a secret", ErrBadTicket)
	}
	if len(holders) > 0 {
		if _, err := peer.AddrInfosFromP2pAddrs(holders...); err != nil {
			return fmt.Errorf("%w: bad holder address: %v", ErrBadTicket, err)
		}
		t.Holders = AddrInfosInOrder(holders)
		if len(t.Holders) > MaxTicketHolders {
			return fmt.Errorf("%w: %d holders, at most %d", ErrBadTicket, len(t.Holders), MaxTicketHolders)
		}
	}
	return nil
}

// AddrInfosInOrder groups addresses ending in /p2p/ID by peer, in the
// order the peers first come (go-libp2p's AddrInfosFromP2pAddrs goes
// through a map); an address without a peer ID is left out.
func AddrInfosInOrder(as []ma.Multiaddr) []peer.AddrInfo {
	var out []peer.AddrInfo
	for _, a := range as {
		tr, id := peer.SplitAddr(a)
		if id == "" {
			continue
		}
		i := slices.IndexFunc(out, func(h peer.AddrInfo) bool { return h.ID == id })
		if i < 0 {
			out, i = append(out, peer.AddrInfo{ID: id}), len(out)
		}
		if tr != nil && len(tr.Bytes()) > 0 {
			out[i].Addrs = append(out[i].Addrs, tr)
		}
	}
	return out
}
