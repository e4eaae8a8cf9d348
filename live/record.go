package live

import (
	"errors"
	"fmt"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/boxo/path"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// A live folder's versions are IPNS records (the IPNS spec's V1+V2
// record, boxo's ipns package) signed by a key of the folder's own, so
// its name, the key's peer ID, stays while its root changes, and any
// IPNS implementation can check one.
const (
	// Validity is how long a record stays valid: the DHT's own
	// expiry; a sharer signs its latest version again well before.
	Validity = 48 * time.Hour
	// ttl tells resolvers how long to cache a record: a live folder
	// changes often and its followers are told by push, not by polling.
	ttl = time.Minute
	// MaxRecord bounds a record read from a peer: the IPNS spec's limit.
	MaxRecord = ipns.MaxRecordSize
)

// Errors a record is refused with.
var (
	ErrForged = errors.New("record not signed by the folder's key")
	ErrStale  = errors.New("record older than one already seen, or expired")
	ErrBad    = errors.New("malformed record")
)

// Version is one checked version of a live folder.
type Version struct {
	Name peer.ID // the folder's key: its name
	Seq  uint64  // version number, from 1
	Root cid.Cid // the folder's root
	EOL  time.Time
	Raw  []byte // the signed record, as published
}

// Sign makes the record of version seq of the folder at root, valid for
// Validity from now.
func Sign(key crypto.PrivKey, root cid.Cid, seq uint64, now time.Time) (Version, error) {
	name, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return Version{}, fmt.Errorf("sign: %w", err)
	}
	eol := now.Add(Validity)
	rec, err := ipns.NewRecord(key, path.FromCid(root), seq, eol, ttl)
	if err != nil {
		return Version{}, fmt.Errorf("sign: %w", err)
	}
	raw, err := ipns.MarshalRecord(rec)
	if err != nil {
		return Version{}, fmt.Errorf("sign: %w", err)
	}
	return Version{Name: name, Seq: seq, Root: root, EOL: eol, Raw: raw}, nil
}

// Open checks raw, a record a peer sent for name: its size, its
// signature by name's key, its validity, and that it names an /ipfs/
// root. It is the one place a record from the network is parsed.
func Open(name peer.ID, raw []byte) (Version, error) {
	if len(raw) > MaxRecord {
		return Version{}, fmt.Errorf("%w: %d bytes", ErrBad, len(raw))
	}
	rec, err := ipns.UnmarshalRecord(raw)
	if err != nil {
		return Version{}, fmt.Errorf("%w: %v", ErrBad, err)
	}
	if err := ipns.ValidateWithName(rec, ipns.NameFromPeer(name)); err != nil {
		if errors.Is(err, ipns.ErrExpiredRecord) {
			// Signed by the key, but past its EOL: no lie, only old (a
			// follower's copy, held unchanged for two days).
			return Version{}, fmt.Errorf("%w: %v", ErrStale, err)
		}
		if errors.Is(err, ipns.ErrSignature) || errors.Is(err, ipns.ErrPublicKeyMismatch) ||
			errors.Is(err, ipns.ErrPublicKeyNotFound) || errors.Is(err, ipns.ErrInvalidPublicKey) {
			return Version{}, fmt.Errorf("%w: %v", ErrForged, err)
		}
		return Version{}, fmt.Errorf("%w: %v", ErrBad, err)
	}
	v := Version{Name: name, Raw: raw}
	if v.Seq, err = rec.Sequence(); err != nil {
		return Version{}, fmt.Errorf("%w: %v", ErrBad, err)
	}
	if v.EOL, err = rec.Validity(); err != nil {
		return Version{}, fmt.Errorf("%w: %v", ErrBad, err)
	}
	p, err := rec.Value()
	if err != nil {
		return Version{}, fmt.Errorf("%w: %v", ErrBad, err)
	}
	// A live folder's value is /ipfs/ROOT, nothing under it and no other
	// name: a follower fetches a root, never resolves a chain.
	if p.Namespace() != path.IPFSNamespace || len(p.Segments()) != 2 {
		return Version{}, fmt.Errorf("%w: value %q is not /ipfs/CID", ErrBad, p.String())
	}
	if v.Root, err = cid.Decode(p.Segments()[1]); err != nil {
		return Version{}, fmt.Errorf("%w: %v", ErrBad, err)
	}
	return v, nil
}
