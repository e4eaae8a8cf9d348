package pollen

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"sync"

	"github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	mh "github.com/multiformats/go-multihash"

	"github.com/pollen-p2p/pollen/chunker"
	"github.com/pollen-p2p/pollen/exchange"
)

// Seeding is fetching content to serve it on, without writing files: the
// blocks go into the store, where a storage quota counts them (a get's
// blocks are in the files it writes, which the quota does not count).

// Seed fetches the DAG under root into the store and keeps it, to serve
// on: as reseed content, which a storage quota evicts when room is
// needed, or with o.Pin pinned. Under a quota, what cannot fit is
// refused (ErrQuota) once the root block is here, before the rest moves.
// o.Name names the record (default: the CID); o.Path, o.Only and the
// export options do not apply.
func (n *Node) Seed(ctx context.Context, root cid.Cid, o GetOptions) (Record, error) {
	if o.Path != "" {
		sub, err := n.Resolve(ctx, root, o.Path, o)
		if err != nil {
			return Record{}, fmt.Errorf("seed %s: %w", root, err)
		}
		root, o.Name = sub, path.Base(strings.Trim(o.Path, "/"))
	}
	o.Only, o.only = nil, nil
	// GC keeps what this fetch finds and brings until its record is.
	defer n.store.Hold(root)()
	err := n.ensureLocal(ctx, root)
	if errors.Is(err, ErrNotLocal) {
		if nw := n.online(); nw != nil {
			err = n.seedFetch(ctx, nw, root, o)
		}
	}
	if err != nil {
		return Record{}, seedError(root, err)
	}
	name := o.Name
	if chunker.CheckName(name) != nil {
		name = n.nameOf(root)
	}
	size, err := n.contentSize(ctx, root)
	if err != nil {
		return Record{}, seedError(root, err)
	}
	if err := n.recordFetched(ctx, root, name, size, o); err != nil {
		return Record{}, seedError(root, err)
	}
	n.use(root)
	if o.Secret == nil { // a private share is never announced
		n.provide(root)
	}
	n.enforce(ctx, "seed "+root.String())
	recs, err := n.store.RecordsOf(root)
	if err != nil || len(recs) == 0 {
		return Record{}, seedError(root, fmt.Errorf("not kept: %v", err))
	}
	return recs[0], nil
}

// seedError names the op once: fetch and ensureLocal say "get CID",
// makeRoom "seed CID".
func seedError(root cid.Cid, err error) error {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "seed "+root.String()+": "):
		return err
	case strings.HasPrefix(msg, "get "+root.String()+": "):
		return renamed{"seed " + strings.TrimPrefix(msg, "get "), err}
	}
	return fmt.Errorf("seed %s: %w", root, err)
}

// renamed is an error said another way, still wrapping it.
type renamed struct {
	msg string
	err error
}

func (r renamed) Error() string { return r.msg }
func (r renamed) Unwrap() error { return r.err }

// seedFetch brings root's DAG into the store, once the quota has room.
func (n *Node) seedFetch(ctx context.Context, nw *netState, root cid.Cid, o GetOptions) error {
	need, err := n.needs(ctx, nw, root, o)
	if err != nil {
		return err
	}
	release, err := n.makeRoom(ctx, "seed "+root.String(), need, true)
	if err != nil {
		return err
	}
	defer release()
	var sink exchange.Sink // none: the blocks go into the store
	if o.Secret != nil {
		sink = &storeSink{n: n, seen: map[string]bool{}} // one that privateSink can wrap
	}
	err = n.fetch(ctx, nw, root, o, sink)
	if serr := n.store.Sync(); err == nil && serr != nil {
		err = serr
	}
	return err
}

// nodesBudget bounds what needs fetches to count a DAG's distinct
// blocks: its nodes, which for the import profile (raw leaves) are a
// few kilobytes a gigabyte. Past it (old DAGs whose leaves are nodes),
// the declared size stands.
const nodesBudget = 16 << 20

// needs says how many bytes of root's DAG the store lacks. Once the root
// block is here (fetched alone), the sizes its links declare, less what
// is here, bound it; links count a block every time it occurs, so a DAG
// of zero runs or repeated chunks declares far more than it holds. When
// that bound will not fit under the quota, the DAG's nodes are fetched
// (never its raw leaves) and each missing block is counted once.
func (n *Node) needs(ctx context.Context, nw *netState, root cid.Cid, o GetOptions) (int64, error) {
	if n.cfg.MaxStorage <= 0 {
		return 0, nil
	}
	if err := n.fetch(ctx, nw, root, o, newPartSink(n, root, noneBelow)); err != nil {
		return 0, err
	}
	declared, err := n.declared(ctx, root)
	if err != nil {
		return 0, err
	}
	var here int64
	err = n.store.WalkStored(ctx, root, func(_ mh.Multihash, size int64, _ bool) { here += size })
	if err != nil {
		return 0, err
	}
	bound := max(declared-here, 0)
	st, err := n.store.Stat(ctx)
	if err != nil || st.Bytes-st.Referenced+bound <= n.cfg.MaxStorage {
		return bound, err // fits without evicting: no need to count closer
	}
	fetched := int64(0)
	ps := newPartSink(n, root, func(nd *merkledag.ProtoNode, _ *ft.FSNode) ([]cid.Cid, error) {
		if fetched += int64(len(nd.RawData())); fetched > nodesBudget {
			return nil, errNodesBudget
		}
		var out []cid.Cid
		for _, l := range nd.Links() {
			if l.Cid.Type() == cid.DagProtobuf {
				out = append(out, l.Cid)
			}
		}
		return out, nil
	})
	if err := n.fetch(ctx, nw, root, o, ps); err != nil {
		return 0, err
	}
	if errors.Is(ps.err, errNodesBudget) {
		return bound, nil
	}
	return n.missingBytes(ctx, root)
}

var errNodesBudget = errors.New("nodes past the budget")

func noneBelow(*merkledag.ProtoNode, *ft.FSNode) ([]cid.Cid, error) { return nil, nil }

// declared is the DAG size root's block declares: its own bytes and its
// links' sizes.
func (n *Node) declared(ctx context.Context, root cid.Cid) (int64, error) {
	b, err := n.store.Get(ctx, root)
	if err != nil {
		return 0, notHere(root, err)
	}
	size := int64(len(b.RawData()))
	if root.Type() != cid.DagProtobuf {
		return size, nil
	}
	nd, err := merkledag.DecodeProtobuf(b.RawData())
	if err != nil {
		return 0, fmt.Errorf("block %s: %w", root, err)
	}
	for _, l := range nd.Links() {
		size += int64(l.Size)
	}
	return size, nil
}

// missingBytes counts, once each, the blocks of root's DAG the store
// lacks: a leaf by its link's size, a missing node by the size its link
// declares for all below it.
func (n *Node) missingBytes(ctx context.Context, root cid.Cid) (int64, error) {
	var total int64
	seen := map[string]bool{}
	stack := []cid.Cid{root}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		nd, err := n.dag.Get(ctx, c)
		if err != nil {
			return 0, notHere(c, err)
		}
		for _, l := range nd.Links() {
			h := string(l.Cid.Hash())
			if seen[h] {
				continue
			}
			seen[h] = true
			ok, err := n.store.Has(ctx, l.Cid)
			switch {
			case err != nil:
				return 0, err
			case !ok:
				total += int64(l.Size)
			case l.Cid.Type() == cid.DagProtobuf:
				stack = append(stack, l.Cid)
			}
		}
	}
	return total, nil
}

// contentSize is what a record says of root's size: a file's bytes, or
// the bytes of the files in a folder.
func (n *Node) contentSize(ctx context.Context, root cid.Cid) (uint64, error) {
	entries, err := n.list(ctx, root, chunker.DefaultMaxEntries)
	if err != nil && !errors.Is(err, chunker.ErrTooLarge) && !ipld.IsNotFound(err) {
		return 0, err
	}
	var size uint64
	for _, e := range entries {
		if e.Kind == "file" {
			size += uint64(e.Size)
		}
	}
	return size, nil
}

// storeSink puts what a fetch brings into the store, as a fetch without
// a sink does, and has each stored node walked once.
type storeSink struct {
	n    *Node
	mu   sync.Mutex
	seen map[string]bool
}

func (s *storeSink) Put(ctx context.Context, bl []blocks.Block) error {
	return s.n.store.PutMany(ctx, bl)
}

func (s *storeSink) Wants(c cid.Cid) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.seen[string(c.Hash())]
}

func (s *storeSink) Local(_ context.Context, b blocks.Block) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen[string(b.Cid().Hash())] = true
	return nil
}
