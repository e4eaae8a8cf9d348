package exchange

import (
	"io"

	"github.com/ipfs/go-cid"

	"github.com/libp2p/go-libp2p/core/peer"
)

// SetWindow sets the most missing blocks a walk asks for at once, for a
// test, and returns a func that restores it.
func SetWindow(n int) (restore func()) {
	old := window
	window = n
	return func() { window = old }
}

// ServeUnlock runs the holder's side of one ProtoUnlock exchange over rw
// with the getter p, for a fuzz test without a stream.
func (e *Exchange) ServeUnlock(rw io.ReadWriter, p peer.ID) error { return e.unlockFor(rw, p) }

// NoteAsking records that e asked a pollen peer for cs, as a running
// fetch does, for a test of what ProtoHaveFetching tells.
func (e *Exchange) NoteAsking(cs []cid.Cid) {
	e.fetches.CompareAndSwap(0, 1) // a fetch runs
	e.asking.addCIDs(cs)
}

// EndFetches says no fetch runs on e any more.
func (e *Exchange) EndFetches() { e.fetches.Store(0) }
