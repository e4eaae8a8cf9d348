package pollen

import (
	"context"
	"errors"
	"io/fs"
	"net/http"

	"github.com/pollen-p2p/pollen/blockstore"
	"github.com/pollen-p2p/pollen/exchange"
)

// Errors have kinds, a small set mapped once to exit codes (cmd) and
// HTTP statuses (the API), so a script or a page can tell "not here"
// from "nobody answered" from "no room" without reading messages.

// ErrorKind is what kind of failure an error is.
type ErrorKind string

// The kinds, and KindOther for the rest.
const (
	KindInvalid     ErrorKind = "invalid input" // a bad CID, ticket, name, path, flag
	KindNotFound    ErrorKind = "not found"     // not in the store, not shared or kept here
	KindUnreachable ErrorKind = "unreachable"   // no peer that has it could be reached
	KindExists      ErrorKind = "exists"        // would replace what is there
	KindCorrupt     ErrorKind = "corrupt"       // damaged blocks, a damaged file
	KindNoSpace     ErrorKind = "no space"      // a full disk, the storage quota
	KindOther       ErrorKind = ""
)

// ErrNotFound is wrapped when a root is not shared or kept here.
var ErrNotFound = errors.New("not shared or kept here")

// ErrInterrupted is a context ended by the user (Ctrl-C, a cancel).
var ErrInterrupted = context.Canceled

// KindOf is err's kind: the first sentinel its chain holds, else the
// kind an error that crossed the API carries.
func KindOf(err error) ErrorKind {
	var ke kindError
	switch {
	case err == nil:
		return KindOther
	case errors.As(err, &ke):
		return ke.kind
	case errors.Is(err, ErrBadTicket), errors.Is(err, ErrUnsafeName), errors.Is(err, ErrUnsafeCID),
		errors.Is(err, ErrTooLarge), errors.Is(err, ErrBadPath), errors.Is(err, ErrBadLimits), errors.Is(err, ErrShared):
		return KindInvalid
	case errors.Is(err, ErrNotLocal), errors.Is(err, ErrNotFound), errors.Is(err, fs.ErrNotExist):
		return KindNotFound
	case errors.Is(err, ErrNoPeers), errors.Is(err, ErrOffline), errors.Is(err, exchange.ErrNotAllowed),
		errors.Is(err, exchange.ErrNotHolder):
		return KindUnreachable
	case errors.Is(err, ErrExists):
		return KindExists
	case errors.Is(err, blockstore.ErrCorrupt), errors.Is(err, ErrCorruptCAR):
		return KindCorrupt
	case errors.Is(err, ErrNoSpace), errors.Is(err, ErrDiskFull), errors.Is(err, ErrQuota):
		return KindNoSpace
	}
	return KindOther
}

// ExitCode is the command line's exit code for a failure of kind k
// (README: 1 other, 2 invalid input, 3 not found, 4 unreachable,
// 5 exists, 6 corrupt, 7 no space; 130 interrupted).
func (k ErrorKind) ExitCode() int {
	switch k {
	case KindInvalid:
		return 2
	case KindNotFound:
		return 3
	case KindUnreachable:
		return 4
	case KindExists:
		return 5
	case KindCorrupt:
		return 6
	case KindNoSpace:
		return 7
	}
	return 1
}

// HTTPStatus is the API's status for a failure of kind k.
func (k ErrorKind) HTTPStatus() int {
	switch k {
	case KindInvalid:
		return http.StatusBadRequest
	case KindNotFound:
		return http.StatusNotFound
	case KindUnreachable:
		return http.StatusBadGateway
	case KindExists:
		return http.StatusConflict
	case KindCorrupt:
		return http.StatusUnprocessableEntity
	case KindNoSpace:
		return http.StatusInsufficientStorage
	}
	return http.StatusInternalServerError
}

// kindError is a failure that crossed the API: its message and kind.
type kindError struct {
	kind ErrorKind
	msg  string
}

func (e kindError) Error() string { return e.msg }

// WithKind makes an error of kind k saying msg, for a client that read
// both from the API.
func WithKind(k ErrorKind, msg string) error { return kindError{k, msg} }
