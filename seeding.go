package pollen

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/pollen-p2p/pollen/blockstore"
)

// Seeding rules: a node counts what it uploads of each root, and stops
// serving a root by itself once it has uploaded a ratio of its size or
// seeded it for a time, as BitTorrent clients do; the user can pause and
// resume a root. A root stopped or paused is not served: its blocks are
// refused to everyone, unless a root still seeded holds them too.
//
// Which root a block belongs to is kept in an index built once the node
// serves (StartSeeding): 8 bytes of each block's hash, so a million
// blocks cost about 40 MiB; two blocks whose hashes share those bytes
// would only share their counts.

// SeedRules say when a node stops serving a root by itself.
type SeedRules struct {
	Ratio float64       // after uploading Ratio × its size; 0: never
	Time  time.Duration // this long after it was added or fetched; 0: never
}

// SeedStat is how a root is seeded.
type SeedStat struct {
	Root cid.Cid
	Name string
	Size uint64 // the files' bytes
	// Copy is the bytes one copy takes: of its distinct blocks (fewer
	// than Size for files whose chunks repeat); Size until it is known.
	Copy uint64
	// Rules are those in force: the root's own where it has them, else
	// the node's (Config.Seed).
	Rules       SeedRules
	OwnRatio    bool // Rules.Ratio is the root's own
	OwnTime     bool // Rules.Time is the root's own
	State       string
	Reason      string    // why a rule stopped it
	Uploaded    int64     // block bytes sent to peers
	Peers       int       // distinct peers sent any (counted per run of the node)
	Since       time.Time // when it was added or fetched
	FirstUpload time.Time // zero before any
}

// Seeding states.
const (
	SeedSeeding = "seeding"
	SeedPaused  = "paused"
	SeedStopped = "stopped"
)

// Ratio is the copies it uploaded.
func (s SeedStat) Ratio() float64 {
	if s.Copy == 0 {
		return 0
	}
	return float64(s.Uploaded) / float64(s.Copy)
}

// seeding is a node's count of what it uploaded of each root.
type seeding struct {
	mu      sync.Mutex
	started bool
	rules   SeedRules // the node's
	roots   map[string]*seedRoot
	index   map[uint64]*seedRoot // a block's root, or multi
	multi   map[uint64][]*seedRoot
	said    func(SeedStat) // told when a rule stops a root
}

// multi marks an index entry whose block several roots hold.
var multi = &seedRoot{}

// seedRoot is one root's seeding, as the record says and this run added.
type seedRoot struct {
	rec   Record
	seed  blockstore.Seed
	base  int // peers counted by earlier runs
	peers map[peer.ID]struct{}
	dirty bool // counts not written to the record yet
	gone  bool // its records were removed
}

// maxSeedPeers bounds the peers a root's run counts one by one.
const maxSeedPeers = 1 << 16

// seedTick is how often rules of time are checked and counts written.
var seedTick = 30 * time.Second

func (r *seedRoot) active() bool { return !r.gone && !r.seed.Paused && r.seed.Stopped == "" }

// ratioMet reports whether r uploaded its ratio of copies: of the bytes
// of its distinct blocks, which is what a getter fetches (a file whose
// chunks repeat, or a folder holding a file twice, takes fewer than its
// size says).
func (r *seedRoot) ratioMet(rules SeedRules) bool {
	size := r.copyBytes()
	return rules.Ratio > 0 && size > 0 && float64(r.seed.Uploaded) >= rules.Ratio*float64(size)
}

// copyBytes is one copy's bytes: its distinct blocks', once indexed.
func (r *seedRoot) copyBytes() uint64 {
	if r.seed.Bytes > 0 {
		return r.seed.Bytes
	}
	return r.rec.Size
}

// hashKey is the index's key of a block whose multihash is h.
func hashKey(h []byte) uint64 {
	if len(h) < 8 {
		var b [8]byte
		copy(b[:], h)
		return binary.LittleEndian.Uint64(b[:])
	}
	return binary.LittleEndian.Uint64(h[len(h)-8:])
}

// StartSeeding indexes the blocks of every root, so that uploads are
// counted per root and the rules apply, and checks the rules of time
// every seedTick until the node closes; said is told of each root a rule
// stops. Commands that serve call it once.
func (n *Node) StartSeeding(said func(SeedStat)) error {
	s := n.seeding
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return nil
	}
	s.said = said
	s.mu.Unlock()
	recs, err := n.store.Records()
	if err != nil {
		return err
	}
	for _, r := range recs {
		if n.seeded(r) { // the others were indexed as the network started
			if err := n.seedIndex(n.ctx, r); err != nil {
				return err
			}
		}
	}
	s.mu.Lock()
	s.started = true
	s.mu.Unlock()
	n.checkSeedTimes()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		t := time.NewTicker(seedTick)
		defer t.Stop()
		for {
			select {
			case <-n.ctx.Done():
				return
			case <-t.C:
				n.checkSeedTimes()
				n.flushSeeding()
			}
		}
	}()
	return nil
}

// seedIndex adds rec's root and its blocks to the index.
func (n *Node) seedIndex(ctx context.Context, rec Record) error {
	s := n.seeding
	s.mu.Lock()
	r := s.roots[string(rec.Root.Hash())]
	if r == nil || r.gone {
		r = &seedRoot{rec: rec, peers: map[peer.ID]struct{}{}}
		if rec.Seed != nil {
			r.seed = *rec.Seed
			r.base = rec.Seed.Peers
		}
		s.roots[string(rec.Root.Hash())] = r
	}
	s.mu.Unlock()
	var bytes uint64
	err := n.eachBlock(ctx, rec.Root, func(h string, size uint64) bool {
		k := hashKey([]byte(h))
		s.mu.Lock()
		defer s.mu.Unlock()
		switch old := s.index[k]; {
		case old == nil || old.gone:
			s.index[k] = r
		case old == r:
			return true // counted
		case old == multi:
			for _, o := range s.multi[k] {
				if o == r {
					return true
				}
			}
			s.multi[k] = append(s.multi[k], r)
		default:
			s.index[k] = multi
			s.multi[k] = []*seedRoot{old, r}
		}
		bytes += size
		return true
	})
	s.mu.Lock()
	r.seed.Bytes = bytes
	s.mu.Unlock()
	return err
}

// seedRecorded tells the seeding of a root recorded or removed (once it
// started; before, StartSeeding reads the records).
func (n *Node) seedRecorded(ctx context.Context, root cid.Cid) error {
	s := n.seeding
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if !started {
		return nil
	}
	recs, err := n.store.RecordsOf(root)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		s.mu.Lock()
		if r := s.roots[string(root.Hash())]; r != nil {
			r.gone = true
		}
		s.mu.Unlock()
		return nil
	}
	return n.seedIndex(ctx, recs[0])
}

// rootsOf calls fn with each root holding c; called with mu held.
func (s *seeding) rootsOf(c cid.Cid, fn func(*seedRoot)) {
	k := hashKey(c.Hash())
	switch r := s.index[k]; r {
	case nil:
	case multi:
		for _, r := range s.multi[k] {
			fn(r)
		}
	default:
		fn(r)
	}
}

// serves reports whether c may be sent: no root holds it, or one that is
// seeded does.
func (s *seeding) serves(c cid.Cid) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	held, seeded := false, false
	s.rootsOf(c, func(r *seedRoot) {
		if !r.gone {
			held = true
			seeded = seeded || r.active()
		}
	})
	return !held || seeded
}

// served counts a block sent to p against each seeded root holding it,
// and stops those whose ratio it reaches.
func (n *Node) served(p peer.ID, c cid.Cid, size int) {
	s := n.seeding
	var stopped []SeedStat
	var used []cid.Cid
	s.mu.Lock()
	s.rootsOf(c, func(r *seedRoot) {
		if !r.active() {
			return
		}
		used = append(used, r.rec.Root)
		r.seed.Uploaded += int64(size)
		if r.seed.First.IsZero() {
			r.seed.First = time.Now().UTC()
		}
		if _, ok := r.peers[p]; !ok && len(r.peers) < maxSeedPeers {
			r.peers[p] = struct{}{}
		}
		r.dirty = true
		if r.ratioMet(s.rulesOf(r)) {
			r.seed.Stopped = "ratio " + strconv.FormatFloat(s.rulesOf(r).Ratio, 'f', -1, 64) + " reached"
			stopped = append(stopped, s.statOf(r))
		}
	})
	said := s.said
	s.mu.Unlock()
	for _, root := range used { // serving it is using it (the quota's LRU)
		n.touch(root)
	}
	n.seedStopped(stopped, said)
}

// seedStopped writes the stops down and tells them.
func (n *Node) seedStopped(stopped []SeedStat, said func(SeedStat)) {
	if len(stopped) == 0 {
		return
	}
	n.flushSeeding() // a stop is written at once: a restart keeps it
	for _, st := range stopped {
		n.log.Info("stopped seeding", "root", st.Root, "why", st.Reason)
		if said != nil {
			said(st)
		}
	}
}

// checkSeedTimes stops the roots seeded for their time.
func (n *Node) checkSeedTimes() {
	s := n.seeding
	var stopped []SeedStat
	s.mu.Lock()
	now := time.Now()
	for _, r := range s.roots {
		rules := s.rulesOf(r)
		if r.active() && rules.Time > 0 && now.Sub(r.rec.Added) >= rules.Time {
			r.seed.Stopped = "seeded for " + rules.Time.String()
			r.dirty = true
			stopped = append(stopped, s.statOf(r))
		}
	}
	said := s.said
	s.mu.Unlock()
	n.seedStopped(stopped, said)
}

// rulesOf is the rules in force for r; called with mu held.
func (s *seeding) rulesOf(r *seedRoot) SeedRules {
	rules := s.rules
	if r.seed.Ratio != nil {
		rules.Ratio = *r.seed.Ratio
	}
	if r.seed.Seconds != nil {
		rules.Time = time.Duration(*r.seed.Seconds) * time.Second
	}
	return rules
}

// statOf describes r; called with mu held.
func (s *seeding) statOf(r *seedRoot) SeedStat {
	st := SeedStat{
		Root: r.rec.Root, Name: r.rec.Name, Size: r.rec.Size, Copy: r.copyBytes(), Rules: s.rulesOf(r),
		OwnRatio: r.seed.Ratio != nil, OwnTime: r.seed.Seconds != nil,
		State: SeedSeeding, Reason: r.seed.Stopped, Uploaded: r.seed.Uploaded,
		Peers: r.base + len(r.peers), Since: r.rec.Added, FirstUpload: r.seed.First,
	}
	switch {
	case r.seed.Stopped != "":
		st.State = SeedStopped
	case r.seed.Paused:
		st.State = SeedPaused
	}
	return st
}

// flushSeeding writes the counts and states that changed to the records.
func (n *Node) flushSeeding() {
	s := n.seeding
	s.mu.Lock()
	var todo []*seedRoot
	var seeds []blockstore.Seed
	for _, r := range s.roots {
		if r.dirty && !r.gone {
			r.dirty = false
			sd := r.seed
			sd.Peers = r.base + len(r.peers)
			todo, seeds = append(todo, r), append(seeds, sd)
		}
	}
	s.mu.Unlock()
	for i, r := range todo {
		if err := n.writeSeed(r.rec.Root, seeds[i]); err != nil {
			n.log.Warn("write seeding counts", "root", r.rec.Root, "err", err)
		}
	}
}

// writeSeed sets the seeding state of root's records.
func (n *Node) writeSeed(root cid.Cid, sd blockstore.Seed) error {
	recs, err := n.store.RecordsOf(root)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		rec.Seed = &sd
		if err := n.store.PutRecord(rec); err != nil {
			return err
		}
	}
	return nil
}

// SeedChange changes a root's seeding (nil fields stay as they are).
type SeedChange struct {
	Ratio *float64       // its own ratio; negative: back to the node's
	Time  *time.Duration // its own time; negative: back to the node's
	Pause bool           // stop serving it
	// Resume serves it again, paused or stopped by a rule (a rule still
	// met stops it again at once: change the rule too).
	Resume bool
}

// SetSeeding changes how root is seeded, and returns how it is now.
func (n *Node) SetSeeding(root cid.Cid, ch SeedChange) (SeedStat, error) {
	recs, err := n.store.RecordsOf(root)
	if err != nil {
		return SeedStat{}, err
	}
	if len(recs) == 0 {
		return SeedStat{}, fmt.Errorf("seeding %s: %w", root, ErrNotFound)
	}
	s := n.seeding
	s.mu.Lock()
	r := s.roots[string(root.Hash())]
	if r == nil || r.gone { // not indexed: the node does not serve yet
		r = &seedRoot{rec: recs[0], peers: map[peer.ID]struct{}{}}
		if recs[0].Seed != nil {
			r.seed, r.base = *recs[0].Seed, recs[0].Seed.Peers
		}
		s.roots[string(root.Hash())] = r
	}
	if ch.Ratio != nil {
		r.seed.Ratio = nil
		if v := *ch.Ratio; v >= 0 {
			r.seed.Ratio = &v
		}
	}
	if ch.Time != nil {
		r.seed.Seconds = nil
		if v := int64(ch.Time.Seconds()); *ch.Time >= 0 {
			r.seed.Seconds = &v
		}
	}
	if ch.Pause {
		r.seed.Paused = true
	}
	if ch.Resume {
		r.seed.Paused, r.seed.Stopped = false, ""
	}
	rules := s.rulesOf(r)
	if r.active() && r.ratioMet(rules) {
		r.seed.Stopped = "ratio " + strconv.FormatFloat(rules.Ratio, 'f', -1, 64) + " reached"
	}
	if r.active() && rules.Time > 0 && time.Since(r.rec.Added) >= rules.Time {
		r.seed.Stopped = "seeded for " + rules.Time.String()
	}
	r.dirty = true
	st := s.statOf(r)
	s.mu.Unlock()
	n.flushSeeding()
	return st, nil
}

// Seeding lists how each root is seeded.
func (n *Node) Seeding() ([]SeedStat, error) {
	recs, err := n.store.Records()
	if err != nil {
		return nil, err
	}
	s := n.seeding
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SeedStat
	seen := map[string]bool{}
	for _, rec := range recs {
		if seen[string(rec.Root.Hash())] {
			continue
		}
		seen[string(rec.Root.Hash())] = true
		r := s.roots[string(rec.Root.Hash())]
		if r == nil || r.gone {
			r = &seedRoot{rec: rec}
			if rec.Seed != nil {
				r.seed, r.base = *rec.Seed, rec.Seed.Peers
			}
		}
		out = append(out, s.statOf(r))
	}
	return out, nil
}

// indexUnseeded indexes the roots paused or stopped, so that no command
// serves them, before the network starts serving; StartSeeding indexes
// the rest, for their counts.
func (n *Node) indexUnseeded(ctx context.Context) error {
	recs, err := n.store.Records()
	if err != nil {
		return err
	}
	for _, r := range recs {
		if !n.seeded(r) {
			if err := n.seedIndex(ctx, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// gate is the node's exchange.Gate: private shares, then seeding.
type gate struct {
	*access
	s *seeding
}

func (g gate) Serves(p peer.ID, c cid.Cid) bool { return g.access.Serves(p, c) && g.s.serves(c) }

func newSeeding(rules SeedRules) *seeding {
	return &seeding{rules: rules, roots: map[string]*seedRoot{}, index: map[uint64]*seedRoot{}, multi: map[uint64][]*seedRoot{}}
}

// seeded reports whether root is seeded (not paused or stopped).
func (n *Node) seeded(rec Record) bool {
	return rec.Seed == nil || !rec.Seed.Paused && rec.Seed.Stopped == ""
}
