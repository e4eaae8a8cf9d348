package swarm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/multiformats/go-multibase"
)

// Ticket is what a sharer hands out: the root CID, the name it is shared
// under, and a peer that has it with the addresses to dial.
type Ticket struct {
	Root cid.Cid
	Name string // may be empty
	Peer peer.AddrInfo
}

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
	for i, f := range fields[3:] {
		a, err := ma.NewMultiaddrBytes(f)
		if err != nil {
			return t, fmt.Errorf("%w: bad address %d: %v", ErrBadTicket, i+1, err)
		}
		t.Peer.Addrs = append(t.Peer.Addrs, a)
	}
	return t, nil
}
