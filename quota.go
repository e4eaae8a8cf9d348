package pollen

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"

	"github.com/pollen-p2p/pollen/blockstore"
)

// A storage quota (Config.MaxStorage) bounds what the store holds
// itself: the blocks in Badger and its pack files. Blocks kept as
// references into the files a get wrote do not count: they take no room
// in the repo, the files are the user's, and dropping the root would not
// give a byte back.
//
// Shared and pinned roots are never evicted, nor a root a get is
// fetching. A root fetched and not pinned (KindReseed) is served on while
// there is room; when an add or a fetch would pass the quota, such roots
// go whole, the one used longest ago first, until it fits: its record
// first, so it is announced no more (the announcer and ProvideAll take
// recorded roots only), then GC takes the blocks no kept root reaches.
// A block that a kept root shares with an evicted one stays.

// ErrQuota is wrapped when content cannot fit under the storage quota
// beside what is never evicted.
var ErrQuota = errors.New("over the storage quota")

// ErrShared is wrapped when asked to unpin what is shared.
var ErrShared = errors.New("shared content is always kept")

// quotaError says what a fetch needs and what the quota leaves it.
type quotaError struct {
	op                 string
	need, left, quota  int64
	kept               int64 // of the quota, what shares, pins and running gets take
	keptByOtherFetches bool  // other fetches have room set aside too
}

func (e *quotaError) Error() string {
	what := "is shared or pinned"
	if e.keptByOtherFetches {
		what = "is shared, pinned or being fetched"
	}
	return fmt.Sprintf("%s: needs %s, the quota leaves %s (--max-storage %s; %s %s)",
		e.op, sizeOf(e.need, true), sizeOf(max(e.left, 0), false),
		sizeOf(e.quota, false), sizeOf(e.kept, true), what)
}

// sizeOf writes n bytes for people, to a tenth of a unit, rounded up
// (what is needed or taken) or down (what is left): a fetch a few bytes
// too big never reads "needs 3.0 MiB, the quota leaves 3.0 MiB".
func sizeOf(n int64, up bool) string {
	if n < 1<<10 {
		return fmt.Sprintf("%d B", n)
	}
	unit, div := 0, float64(1<<10)
	for n >= 1<<10*int64(div) && unit < 5 {
		unit++
		div *= 1 << 10
	}
	tenths := float64(n) * 10 / div
	if up {
		tenths = math.Ceil(tenths)
	} else {
		tenths = math.Floor(tenths)
	}
	return fmt.Sprintf("%.1f %ciB", tenths/10, "KMGTPE"[unit])
}

func (e *quotaError) Is(target error) bool { return target == ErrQuota }

// quota is a node's quota state.
type quota struct {
	mu sync.Mutex // one plan or eviction at a time
	// reserved is what the fetches let through may bring, counted in
	// full until each ends though part of it is stored by then: fetches
	// running side by side err on the side of the quota.
	reserved int64

	touchMu sync.Mutex
	touched map[cid.Cid]time.Time // the last use written, per root
}

// touchEvery bounds how often serving a root writes its use: serving
// calls touch for every block it sends.
const touchEvery = time.Minute

// touch records that root was served to a peer now. It is the hook for
// serving, cheap enough to call for every block sent: the use is written
// at most once per touchEvery for each root.
func (n *Node) touch(root cid.Cid) {
	now := time.Now()
	n.q.touchMu.Lock()
	last := n.q.touched[root]
	if now.Sub(last) < touchEvery {
		n.q.touchMu.Unlock()
		return
	}
	n.q.touchMu.Unlock()
	n.use(root)
}

// use records that root was used now (fetched, or read by the user),
// when it is a root the store keeps.
func (n *Node) use(root cid.Cid) {
	if recs, err := n.store.RecordsOf(root); err != nil || len(recs) == 0 {
		return
	}
	now := time.Now()
	n.q.touchMu.Lock()
	if n.q.touched == nil {
		n.q.touched = map[cid.Cid]time.Time{}
	}
	n.q.touched[root] = now
	n.q.touchMu.Unlock()
	if err := n.store.Touch(root, now); err != nil {
		n.log.Debug("touch", "root", root, "err", err)
	}
}

// recordFetched keeps root, fetched under name, as reseed content, or
// pinned (o.Pin), private if o says so; a root recorded already keeps
// its record (a share stays a share), pinned if asked.
func (n *Node) recordFetched(ctx context.Context, root cid.Cid, name string, size uint64, o GetOptions) error {
	recs, err := n.store.RecordsOf(root)
	if err != nil {
		return err
	}
	if len(recs) > 0 {
		if o.Pin {
			return n.Pin(root, true)
		}
		return nil
	}
	rec := Record{Root: root, Kind: KindReseed, Name: name, Size: size, Added: time.Now().UTC(), Secret: o.Secret}
	if o.Pin {
		rec.Kind = KindPin
	}
	for _, p := range o.Allow {
		rec.Allow = append(rec.Allow, p.String())
	}
	if err := n.store.PutRecord(rec); err != nil {
		return err
	}
	return n.refreshAccess(ctx)
}

// Pin keeps a fetched root whatever the quota (pin true), or lets it be
// evicted when room is needed (false). A shared root is never evicted:
// pinning it changes nothing, and it cannot be unpinned.
func (n *Node) Pin(root cid.Cid, pin bool) error {
	op := map[bool]string{true: "pin", false: "unpin"}[pin]
	n.q.mu.Lock() // not while an eviction decides
	defer n.q.mu.Unlock()
	recs, err := n.store.RecordsOf(root)
	if err != nil {
		return fmt.Errorf("%s %s: %w", op, root, err)
	}
	var fetched *Record
	shared := false
	for i, r := range recs {
		if r.Kind == KindShare {
			shared = true
		} else {
			fetched = &recs[i]
		}
	}
	switch {
	case fetched == nil && shared && pin:
		return nil
	case fetched == nil && shared:
		return fmt.Errorf("unpin %s: it is shared, and %w ('pollen rm' stops sharing it)", root, ErrShared)
	case fetched == nil:
		return fmt.Errorf("%s %s: %w; get it first", op, root, ErrNotFound)
	}
	kind := map[bool]blockstore.Kind{true: KindPin, false: KindReseed}[pin]
	if fetched.Kind == kind {
		return nil
	}
	fetched.Kind = kind
	if err := n.store.PutRecord(*fetched); err != nil {
		return fmt.Errorf("%s %s: %w", op, root, err)
	}
	return nil
}

// Usage is the store against the quota.
type Usage struct {
	Quota  int64 // Config.MaxStorage; 0: none
	Stored int64 // bytes the store holds itself (not in files gets wrote)
	Kept   int64 // of Stored, what shared and pinned roots reach: never evicted
	// Used is when each kept root was last fetched or read.
	Used map[cid.Cid]time.Time
}

// Usage measures the store against the quota.
func (n *Node) Usage(ctx context.Context) (Usage, error) {
	u := Usage{Quota: n.cfg.MaxStorage}
	st, err := n.store.Stat(ctx)
	if err != nil {
		return u, err
	}
	u.Stored = st.Bytes - st.Referenced
	p, err := n.plan(ctx, nil)
	if err != nil {
		return u, err
	}
	u.Kept, u.Used = p.pinned, p.used
	return u, nil
}

// plan is what the store will hold once GC has run, and what evicting
// each evictable root would take off it.
type plan struct {
	pinned int64 // held bytes shared and pinned roots reach
	kept   int64 // held bytes every root that stays reaches: pinned, and running gets'
	total  int64 // kept, and what only evictable roots reach
	cands  []candidate
	own    map[string]int64 // held bytes reached by evictable roots alone
	refs   map[string]int   // how many evictable roots reach each of those
	used   map[cid.Cid]time.Time
}

// candidate is an evictable root and the blocks only evictable roots
// reach that it reaches.
type candidate struct {
	root   cid.Cid
	used   time.Time
	blocks []string
}

// plan walks the kept roots, then the evictable ones (those in running
// also stay), least recently used first.
func (n *Node) plan(ctx context.Context, running []cid.Cid) (*plan, error) {
	recs, err := n.store.Records()
	if err != nil {
		return nil, err
	}
	used, err := n.store.LastUsed()
	if err != nil {
		return nil, err
	}
	p := &plan{own: map[string]int64{}, refs: map[string]int{}, used: used}
	stays := map[cid.Cid]bool{}
	for _, r := range running {
		stays[r] = true
	}
	for _, r := range recs {
		if r.Kind != KindReseed {
			stays[r.Root] = true
		}
	}
	kept := map[string]bool{}
	walk := func(root cid.Cid, fn func(h string, size int64)) error {
		return n.store.WalkStored(ctx, root, func(h mh.Multihash, size int64, held bool) {
			if held && !kept[string(h)] {
				fn(string(h), size)
			}
		})
	}
	keep := func(h string, size int64) { kept[h] = true; p.kept += size }
	for _, r := range recs {
		if r.Kind != KindReseed {
			if err := walk(r.Root, keep); err != nil {
				return nil, err
			}
		}
	}
	p.pinned = p.kept
	for _, r := range running {
		if err := walk(r, keep); err != nil {
			return nil, err
		}
	}
	p.total = p.kept
	for _, r := range recs {
		if r.Kind != KindReseed || stays[r.Root] {
			continue
		}
		c := candidate{root: r.Root, used: cmp.Or(used[r.Root], r.Added)}
		err := walk(r.Root, func(h string, size int64) {
			c.blocks = append(c.blocks, h)
			if p.refs[h] == 0 {
				p.own[h] = size
				p.total += size
			}
			p.refs[h]++
		})
		if err != nil {
			return nil, err
		}
		p.cands = append(p.cands, c)
	}
	slices.SortStableFunc(p.cands, func(a, b candidate) int { return a.used.Compare(b.used) })
	return p, nil
}

// makeRoom makes room under the quota for need more bytes in the store,
// for op ("seed CID"), and reserves them until release is called. With
// refuse set it fails with ErrQuota, evicting nothing, when need cannot
// fit beside what is never evicted; else it evicts what it can and lets
// the work go on. Then it evicts reseed roots, least recently used
// first, until need fits, and collects their garbage.
func (n *Node) makeRoom(ctx context.Context, op string, need int64, refuse bool) (release func(), err error) {
	q := n.cfg.MaxStorage
	if q <= 0 {
		return func() {}, nil
	}
	n.q.mu.Lock()
	defer n.q.mu.Unlock()
	reserve := func() func() {
		n.q.reserved += need
		var once sync.Once
		return func() {
			once.Do(func() {
				n.q.mu.Lock()
				n.q.reserved -= need
				n.q.mu.Unlock()
			})
		}
	}
	st, err := n.store.Stat(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	stored := st.Bytes - st.Referenced
	if stored+n.q.reserved+need <= q {
		return reserve(), nil
	}
	p, err := n.plan(ctx, n.store.HeldRoots())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if refuse && p.kept+n.q.reserved+need > q {
		return nil, &quotaError{op: op, need: need, left: q - p.kept - n.q.reserved, quota: q,
			kept: p.kept, keptByOtherFetches: n.q.reserved > 0}
	}
	var evict []cid.Cid
	for _, c := range p.cands {
		if p.total+n.q.reserved+need <= q {
			break
		}
		freed := int64(0)
		for _, h := range c.blocks {
			if p.refs[h]--; p.refs[h] == 0 {
				freed += p.own[h]
			}
		}
		if len(c.blocks) == 0 {
			continue // all of it is in a get's files, or kept by others: evicting frees nothing
		}
		p.total -= freed
		evict = append(evict, c.root)
	}
	for _, root := range evict {
		if err := n.evict(root); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}
	if len(evict) > 0 || stored > p.total {
		if _, err := n.GC(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}
	if len(evict) > 0 {
		// After GC, not before: until its blocks are gone, an evicted
		// private root's stay private (see Remove).
		if err := n.refreshAccess(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}
	return reserve(), nil
}

// evict forgets a reseed root: announced no more from now on, its
// blocks go at the GC that follows.
func (n *Node) evict(root cid.Cid) error {
	if _, err := n.store.DeleteRecords(root); err != nil {
		return err
	}
	n.q.touchMu.Lock()
	delete(n.q.touched, root)
	n.q.touchMu.Unlock()
	if err := n.store.ForgetUsed(root); err != nil {
		return err
	}
	n.log.Info("evicted under the storage quota", "root", root)
	return nil
}

// enforce evicts what keeps the store over the quota after an add or a
// fetch; a failure is logged, as the work itself is done.
func (n *Node) enforce(ctx context.Context, op string) {
	release, err := n.makeRoom(ctx, op, 0, false)
	if err != nil {
		n.log.Warn("storage quota", "op", op, "err", err)
		return
	}
	release()
}

// roomToAdd makes room, as far as evicting reseed content can, for
// what an add of path will store: at most the bytes of its files (less
// when they repeat, or are stored already). An add is never refused: it
// is the user's own content, which the quota keeps.
func (n *Node) roomToAdd(ctx context.Context, path string) {
	if n.cfg.MaxStorage <= 0 {
		return
	}
	var size int64
	filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				size += info.Size()
			}
		}
		return nil
	})
	release, err := n.makeRoom(ctx, "add "+path, size, false)
	if err != nil {
		n.log.Warn("storage quota", "op", "add "+path, "err", err)
		return
	}
	release()
}

// provideKept announces root on the DHT if the store still keeps it: a
// root evicted (or removed) while it waited in the announcer's queue is
// announced no more.
func (n *Node) provideKept(ctx context.Context, nw *netState, root cid.Cid) error {
	if recs, err := n.store.RecordsOf(root); err == nil && len(recs) == 0 {
		return nil
	}
	return nw.ex.Provide(ctx, root)
}

// LastUsed returns when each kept root was last fetched or read.
func (n *Node) LastUsed() (map[cid.Cid]time.Time, error) { return n.store.LastUsed() }
