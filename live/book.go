package live

import (
	"fmt"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Book keeps the newest version seen of each name, and is the only
// judge of whether a record is news: a record whose sequence number is
// below the newest is stale (a replay), and one with the same number but
// another root is forged or a key used twice; both are refused. The
// same record again is not news.
type Book struct {
	mu   sync.Mutex
	best map[peer.ID]Version
}

// NewBook returns an empty book.
func NewBook() *Book { return &Book{best: map[peer.ID]Version{}} }

// Latest returns the newest version of name, if any.
func (b *Book) Latest(name peer.ID) (Version, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	v, ok := b.best[name]
	return v, ok
}

// Accept records raw, a record for name from anyone, when it is newer
// than what the book holds: it returns the version and whether it is
// news. Errors wrap ErrForged, ErrStale or ErrBad.
func (b *Book) Accept(name peer.ID, raw []byte) (Version, bool, error) {
	v, err := Open(name, raw)
	if err != nil {
		return Version{}, false, err
	}
	return b.Put(v)
}

// Put is Accept of a version already checked (Open or Sign).
func (b *Book) Put(v Version) (Version, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	old, ok := b.best[v.Name]
	switch {
	case !ok || v.Seq > old.Seq:
		b.best[v.Name] = v
		return v, true, nil
	case v.Seq < old.Seq:
		return Version{}, false, fmt.Errorf("%w: version %d, have %d", ErrStale, v.Seq, old.Seq)
	case !v.Root.Equals(old.Root):
		return Version{}, false, fmt.Errorf("%w: version %d names two roots", ErrStale, v.Seq)
	case v.EOL.After(old.EOL):
		// The same version signed again later: kept so it is served
		// valid, but not news.
		b.best[v.Name] = v
	}
	return old, false, nil
}

// Names lists the names the book holds.
func (b *Book) Names() []peer.ID {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]peer.ID, 0, len(b.best))
	for n := range b.best {
		out = append(out, n)
	}
	return out
}
