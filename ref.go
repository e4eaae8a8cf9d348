package pollen

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ipfs/go-cid"
)

// ParseRef reads what a user gives to fetch: a ticket, a CID, either
// followed by a path inside it (TICKET/photos/2024), or /ipfs/CID/path.
// The options carry what a ticket holds: its name, its peer to dial
// first, a private share's secret.
func ParseRef(s string) (cid.Cid, GetOptions, error) {
	var o GetOptions
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "/ipfs/")
	// REF/path/inside names one file or folder of the share: neither a
	// ticket nor a CID holds a slash.
	if ref, inside, ok := strings.Cut(s, "/"); ok {
		s, o.Path = ref, strings.Trim(inside, "/")
	}
	if strings.HasPrefix(s, "pollen1") {
		t, err := ParseTicket(s)
		if err != nil {
			return cid.Undef, o, err
		}
		if o.Path == "" {
			o.Name = t.Name
		}
		if len(t.Peer.Addrs) > 0 {
			o.From = append(o.From, t.Peer)
		}
		o.Secret, o.Allow = t.Secret, t.Allow
		return t.Root, o, nil
	}
	c, err := cid.Decode(s)
	for err != nil && errors.Unwrap(err) != nil { // go-cid nests "invalid cid:"
		err = errors.Unwrap(err)
	}
	if err != nil {
		return cid.Undef, o, fmt.Errorf("%q is neither a ticket nor a valid CID: %v", s, err)
	}
	return c, o, nil
}

// GetRef is Get of what ParseRef reads (a ticket, a CID, a path inside
// either): the ticket's peer is dialled first and its name used, and the
// options given add to the ticket's (o's From first, its Name when set).
func (n *Node) GetRef(ctx context.Context, ref, dir string, o GetOptions) (GetResult, error) {
	root, r, err := ParseRef(ref)
	if err != nil {
		return GetResult{}, fmt.Errorf("get: %w", err)
	}
	if o.Name == "" {
		o.Name = r.Name
	}
	if o.Path == "" {
		o.Path = r.Path
	}
	o.From = append(o.From, r.From...)
	if o.Secret == nil {
		o.Secret, o.Allow = r.Secret, r.Allow
	}
	return n.Get(ctx, root, dir, o)
}
