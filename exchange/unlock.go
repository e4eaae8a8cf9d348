package exchange

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Private shares. A private share's ticket carries a secret; a node
// serves the share's blocks (over every protocol, Bitswap included) only
// to a peer that proved, on ProtoUnlock, that it holds the secret. The
// proof is bound to both peer IDs (which the connection's security
// authenticates) and to a nonce from each side, so a proof seen once is
// good for nothing else.
//
// ProtoUnlock, all fields fixed-size:
//
//	getter → holder: tag (16) | getter's nonce (32)
//	holder → getter: holder's nonce (32) | holder's proof (32)
//	getter → holder: getter's proof (32)
//	holder → getter: verdict (1): 1 served, 2 bad proof, 3 not allowed
//
// The tag names the share without telling its root or secret. The
// holder proves first, so the getter tells the share's CIDs only to a
// holder; a node without the share answers with random bytes, which a
// getter cannot tell from a holder with another secret: it learns
// nothing about who holds what.
const ProtoUnlock = protocol.ID("/pollen/unlock/1.0.0")

// ShareTag names a private share on ProtoUnlock.
type ShareTag [16]byte

// TagOf is the tag of the share whose secret is secret.
func TagOf(secret []byte) ShareTag {
	h := sha256.Sum256(append([]byte("pollen share tag\x00"), secret...))
	var t ShareTag
	copy(t[:], h[:])
	return t
}

const nonceLen = 32

// Verdicts on ProtoUnlock.
const (
	verdictServed     = 1
	verdictBadProof   = 2
	verdictNotAllowed = 3
)

// A Gate decides which blocks each peer is served: a node with private
// shares has one (see Config.Gate).
type Gate interface {
	// Serves reports whether block c may be sent to p.
	Serves(p peer.ID, c cid.Cid) bool
	// Secret returns the secret of the private share tag names, if this
	// node holds one.
	Secret(tag ShareTag) ([]byte, bool)
	// Unlock is told that p proved it holds the secret of tag; it fails
	// with ErrNotAllowed when the share is limited to other peers.
	Unlock(p peer.ID, tag ShareTag) error
}

// Errors of Unlock.
var (
	// ErrNotHolder: the peer does not hold the share (or its secret
	// differs).
	ErrNotHolder = errors.New("does not hold this private share")
	// ErrNotAllowed: the share is limited to other peers.
	ErrNotAllowed = errors.New("this private share is limited to other peers")
)

// proof is what one side sends to show it holds secret: an HMAC of both
// nonces and both peer IDs, and which side it is, so a holder's proof
// cannot be sent back to it as a getter's.
func proof(secret []byte, side string, getterNonce, holderNonce []byte, getter, holder peer.ID) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("pollen unlock " + side + "\x00"))
	m.Write(getterNonce)
	m.Write(holderNonce)
	m.Write([]byte(getter))
	m.Write([]byte{0})
	m.Write([]byte(holder))
	return m.Sum(nil)
}

// Unlock proves to p that this node holds secret, so p serves the share
// to it; it fails with ErrNotHolder when p cannot prove it holds the
// share too.
func (e *Exchange) Unlock(ctx context.Context, p peer.ID, secret []byte) error {
	ctx = network.WithAllowLimitedConn(ctx, "private shares go where transfers go")
	s, err := e.h.NewStream(ctx, p, ProtoUnlock)
	if err != nil {
		return err
	}
	defer s.Close()
	stop := context.AfterFunc(ctx, func() { s.Reset() })
	defer stop()
	s.SetDeadline(time.Now().Add(ioTimeout))
	tag := TagOf(secret)
	hello := make([]byte, len(tag)+nonceLen)
	copy(hello, tag[:])
	rand.Read(hello[len(tag):])
	nonce := hello[len(tag):]
	if _, err := s.Write(hello); err != nil {
		return err
	}
	var answer [nonceLen + sha256.Size]byte
	if _, err := io.ReadFull(s, answer[:]); err != nil {
		return fmt.Errorf("%w: %v", errProtocol, unexpected(err))
	}
	theirs := answer[:nonceLen]
	if !hmac.Equal(answer[nonceLen:], proof(secret, "holder", nonce, theirs, e.h.ID(), p)) {
		s.Reset()
		return ErrNotHolder
	}
	if _, err := s.Write(proof(secret, "getter", nonce, theirs, e.h.ID(), p)); err != nil {
		return err
	}
	var verdict [1]byte
	if _, err := io.ReadFull(s, verdict[:]); err != nil {
		return fmt.Errorf("%w: %v", errProtocol, unexpected(err))
	}
	switch verdict[0] {
	case verdictServed:
		return nil
	case verdictNotAllowed:
		return ErrNotAllowed
	case verdictBadProof:
		return ErrNotHolder
	}
	return fmt.Errorf("%w: verdict %d", errProtocol, verdict[0])
}

// serveUnlock answers one ProtoUnlock exchange.
func (e *Exchange) serveUnlock(s network.Stream) {
	defer s.Close()
	s.SetDeadline(time.Now().Add(ioTimeout))
	if err := e.unlockFor(s, s.Conn().RemotePeer()); err != nil {
		s.Reset()
	}
}

// unlockFor is serveUnlock's exchange over rw with the getter p: every
// read is of a fixed size, so nothing a peer sends costs more.
func (e *Exchange) unlockFor(rw io.ReadWriter, p peer.ID) error {
	var hello [len(ShareTag{}) + nonceLen]byte
	if _, err := io.ReadFull(rw, hello[:]); err != nil {
		return err
	}
	var tag ShareTag
	copy(tag[:], hello[:])
	nonce := hello[len(tag):]
	var secret []byte
	if e.gate != nil {
		secret, _ = e.gate.Secret(tag)
	}
	answer := make([]byte, nonceLen, nonceLen+sha256.Size)
	rand.Read(answer)
	if secret == nil {
		// Not held here: bytes that look like a proof, and no more.
		more := make([]byte, sha256.Size)
		rand.Read(more)
		_, err := rw.Write(append(answer, more...))
		return err
	}
	if _, err := rw.Write(append(answer, proof(secret, "holder", nonce, answer, p, e.h.ID())...)); err != nil {
		return err
	}
	var theirs [sha256.Size]byte
	if _, err := io.ReadFull(rw, theirs[:]); err != nil {
		return err
	}
	verdict := byte(verdictServed)
	if !hmac.Equal(theirs[:], proof(secret, "getter", nonce, answer, p, e.h.ID())) {
		verdict = verdictBadProof
	} else if err := e.gate.Unlock(p, tag); err != nil {
		verdict = verdictNotAllowed
	}
	_, err := rw.Write([]byte{verdict})
	return err
}
