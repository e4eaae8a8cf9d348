package pollen

import (
	"context"
	"slices"
	"sync"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen/exchange"
)

// access is the node's exchange.Gate: which blocks belong to private
// shares only, and which peers proved they hold which share. A block
// that a public root holds too is public (anyone could fetch it there);
// one that no root holds is served as before. A node without private
// shares holds nothing here and serves every block.
type access struct {
	mu sync.RWMutex
	// shares are the private shares by tag: the records', and those of
	// private gets running or done since the node started.
	shares map[exchange.ShareTag]*privateShare
	// blocks maps the multihash of every block only private records hold
	// to their shares' tags (rebuilt from the records by refresh).
	blocks map[string][]exchange.ShareTag
	// live does the same for the blocks private gets brought since the
	// node started, which no record may hold yet (refresh keeps them).
	live   map[string][]exchange.ShareTag
	grants map[peer.ID]map[exchange.ShareTag]struct{}

	refreshing sync.Mutex // one refresh at a time
}

// privateShare is what a node knows of one private share.
type privateShare struct {
	root   cid.Cid
	secret []byte
	allow  map[peer.ID]bool // nil: anyone who proves the secret
	live   bool             // a get's, not (yet) a record's
}

// maxGrants bounds the peers remembered as having unlocked a share:
// past it, one is forgotten, and unlocks again on its next download.
const maxGrants = 1 << 14

var _ exchange.Gate = (*access)(nil)

func newAccess() *access {
	return &access{
		shares: map[exchange.ShareTag]*privateShare{},
		blocks: map[string][]exchange.ShareTag{},
		live:   map[string][]exchange.ShareTag{},
		grants: map[peer.ID]map[exchange.ShareTag]struct{}{},
	}
}

// Serves reports whether c is public, or p unlocked a share holding it.
func (a *access) Serves(p peer.ID, c cid.Cid) bool {
	h := string(c.Hash())
	a.mu.RLock()
	defer a.mu.RUnlock()
	tags, ok := a.blocks[h]
	more, lok := a.live[h]
	if !ok && !lok {
		return true
	}
	g := a.grants[p]
	for _, t := range append(tags[:len(tags):len(tags)], more...) {
		if _, ok := g[t]; ok {
			return true
		}
	}
	return false
}

// Secret returns the secret of the share tag names.
func (a *access) Secret(tag exchange.ShareTag) ([]byte, bool) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if s := a.shares[tag]; s != nil {
		return s.secret, true
	}
	return nil, false
}

// Unlock grants p the share tag names, unless it is limited to others.
func (a *access) Unlock(p peer.ID, tag exchange.ShareTag) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.shares[tag]
	if s == nil {
		return exchange.ErrNotHolder
	}
	if s.allow != nil && !s.allow[p] {
		return exchange.ErrNotAllowed
	}
	g := a.grants[p]
	if g == nil {
		if len(a.grants) >= maxGrants {
			for q := range a.grants {
				delete(a.grants, q)
				break
			}
		}
		g = map[exchange.ShareTag]struct{}{}
		a.grants[p] = g
	}
	g[tag] = struct{}{}
	return nil
}

// begin registers the private share a get fetches, so that what arrives
// is private from its first block, and the getter serves it to other
// holders of the secret while it fetches.
func (a *access) begin(root cid.Cid, secret []byte, allow []peer.ID) exchange.ShareTag {
	tag := exchange.TagOf(secret)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.shares[tag] == nil {
		a.shares[tag] = &privateShare{root: root, secret: secret, allow: allowSet(allow), live: true}
	}
	return tag
}

// arrived marks blocks a private get brought as its share's.
func (a *access) arrived(tag exchange.ShareTag, bl []blocks.Block) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, b := range bl {
		h := string(b.Cid().Hash())
		if !slices.Contains(a.live[h], tag) {
			a.live[h] = append(a.live[h], tag)
		}
	}
}

// settle forgets what a private get brought once a record holds its
// root (refreshAccess has indexed it): the record keeps it private now.
func (a *access) settle(tag exchange.ShareTag) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for h, tags := range a.live {
		if i := slices.Index(tags, tag); i >= 0 {
			if tags = slices.Delete(tags, i, i+1); len(tags) == 0 {
				delete(a.live, h)
			} else {
				a.live[h] = tags
			}
		}
	}
}

// allowSet is the set of allowed peers; nil when any peer is.
func allowSet(ids []peer.ID) map[peer.ID]bool {
	if len(ids) == 0 {
		return nil
	}
	m := make(map[peer.ID]bool, len(ids))
	for _, p := range ids {
		m[p] = true
	}
	return m
}

// refreshAccess rebuilds which blocks are private from the records (and
// extra ones about to be written), walking each private root's DAG, then
// each public root's to take out what is public. A node without private
// records walks nothing.
func (n *Node) refreshAccess(ctx context.Context, extra ...Record) error {
	a := n.access
	a.refreshing.Lock()
	defer a.refreshing.Unlock()
	recs, err := n.store.Records()
	if err != nil {
		return err
	}
	recs = append(recs, extra...)
	shares := map[exchange.ShareTag]*privateShare{}
	priv := map[string][]exchange.ShareTag{}
	for _, r := range recs {
		if !r.Private() {
			continue
		}
		tag := exchange.TagOf(r.Secret)
		var allow []peer.ID
		for _, s := range r.Allow {
			if id, err := peer.Decode(s); err == nil {
				allow = append(allow, id)
			}
		}
		shares[tag] = &privateShare{root: r.Root, secret: r.Secret, allow: allowSet(allow)}
		err := n.eachBlock(ctx, r.Root, func(h string, _ uint64) bool {
			if !slices.Contains(priv[h], tag) {
				priv[h] = append(priv[h], tag)
			}
			return true
		})
		if err != nil {
			return err
		}
	}
	for _, r := range recs {
		if r.Private() || len(priv) == 0 {
			continue
		}
		err := n.eachBlock(ctx, r.Root, func(h string, _ uint64) bool {
			delete(priv, h)
			return len(priv) > 0
		})
		if err != nil {
			return err
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for tag, s := range a.shares {
		if s.live && shares[tag] == nil { // a get's, not recorded: kept while the node runs
			shares[tag] = s
		}
	}
	a.shares, a.blocks = shares, priv
	return nil
}

// eachBlock calls fn with the multihash and size of every block of
// root's DAG that is here (a node once, however often it occurs; a leaf
// as often as it is linked, with the size its link declares), until fn
// returns false.
func (n *Node) eachBlock(ctx context.Context, root cid.Cid, fn func(h string, size uint64) bool) error {
	type item struct {
		c    cid.Cid
		size uint64
	}
	rootSize := uint64(0)
	if root.Type() != cid.DagProtobuf {
		sz, err := n.store.GetSize(ctx, root)
		if ipld.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		rootSize = uint64(sz)
	}
	stack := []item{{root, rootSize}}
	seen := map[string]bool{}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		c := it.c
		stack = stack[:len(stack)-1]
		h := string(c.Hash())
		if seen[h] {
			continue
		}
		if c.Type() != cid.DagProtobuf {
			if !fn(h, it.size) {
				return nil
			}
			continue
		}
		seen[h] = true
		nd, err := n.dag.Get(ctx, c)
		if ipld.IsNotFound(err) {
			continue // part of a DAG: what is here is what counts
		}
		if err != nil {
			return err
		}
		if !fn(h, uint64(len(nd.RawData()))) {
			return nil
		}
		for _, l := range nd.Links() {
			stack = append(stack, item{l.Cid, l.Size})
		}
	}
	return nil
}

// privateSink marks the blocks a private get brings as its share's
// before they are stored, where a peer could ask for them.
type privateSink struct {
	exchange.Sink
	a   *access
	tag exchange.ShareTag
}

func (s privateSink) Put(ctx context.Context, bl []blocks.Block) error {
	s.a.arrived(s.tag, bl)
	return s.Sink.Put(ctx, bl)
}

// private reports whether c is a private share's root or a block only
// private shares hold.
func (a *access) private(c cid.Cid) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	h := string(c.Hash())
	if _, ok := a.blocks[h]; ok {
		return true
	}
	if _, ok := a.live[h]; ok {
		return true
	}
	for _, s := range a.shares {
		if s.root.Equals(c) {
			return true
		}
	}
	return false
}
