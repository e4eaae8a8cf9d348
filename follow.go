package pollen

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/pollen-p2p/pollen/chunker"
	"github.com/pollen-p2p/pollen/live"
	"github.com/pollen-p2p/pollen/swarm"
)

// A follow keeps a mirror of someone's live folder: it subscribes to the
// folder's holders (/pollen/live/1.0.0), and for each newer version it
// is told of it fetches the blocks it lacks, makes the mirror equal to
// the version (mirror.go), and then serves the version itself, so other
// followers fetch from it and not only from the sharer.

// Follow starts following the live folder of ticket t into the mirror
// folder dir, until StopLive or Close; the daemon takes it up again
// after a restart (ResumeLives).
func (n *Node) Follow(ctx context.Context, t Ticket, dir string) (LiveInfo, error) {
	if t.Live == "" {
		return LiveInfo{}, fmt.Errorf("follow: %w: not a live folder's ticket", ErrBadTicket)
	}
	nw := n.online()
	if nw == nil {
		return LiveInfo{}, errors.New("follow: the network is not started")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return LiveInfo{}, fmt.Errorf("follow: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return LiveInfo{}, fmt.Errorf("follow: %w", err)
	}
	if err := n.loadLives(); err != nil {
		return LiveInfo{}, err
	}
	// The ticket's peer first (the one it spares, see startFollow), then
	// the other holders it names: followers.
	var holders []string
	for _, h := range append([]peer.AddrInfo{t.Peer}, t.Holders...) {
		if h.ID == "" {
			continue
		}
		if as, err := peer.AddrInfoToP2pAddrs(&h); err == nil {
			for _, a := range as {
				holders = append(holders, a.String())
			}
		}
		if len(h.Addrs) == 0 {
			holders = append(holders, "/p2p/"+h.ID.String())
		}
	}
	n.lv.mu.Lock()
	var li *LiveInfo
	for _, l := range n.lv.all {
		if l.Name == t.Live {
			li = l
		}
	}
	added := false
	if li == nil {
		li = &LiveInfo{Follow: true, Name: t.Live, Dir: abs, Holders: holders}
		n.lv.all = append(n.lv.all, li)
	} else if !li.Follow {
		n.lv.mu.Unlock()
		return *li, fmt.Errorf("follow: this node shares %s live itself: %w", li.Dir, ErrExists)
	} else if li.Dir != abs {
		n.lv.mu.Unlock()
		return *li, fmt.Errorf("follow: already mirrored in %s: %w", li.Dir, ErrExists)
	} else {
		// Another ticket of the same folder (from another follower, say):
		// its holders are asked too.
		for _, h := range holders {
			if !slices.Contains(li.Holders, h) {
				li.Holders, added = append(li.Holders, h), true
			}
		}
	}
	err = n.saveLives()
	stop, running := n.lv.running[t.Live]
	if running && added {
		delete(n.lv.running, t.Live)
	}
	out := *li
	n.lv.mu.Unlock()
	if err != nil {
		return out, fmt.Errorf("follow: %w", err)
	}
	if running && added {
		stop() // and again with the new holders
	}
	if !running || added {
		n.startFollow(nw, li)
	}
	return out, nil
}

// ParseLive reads what names a live folder to follow: its ticket, or
// its IPNS name alone (/ipns/k51..., or the name bare), whose versions
// are then found in the DHT.
func ParseLive(s string) (Ticket, error) {
	t, err := ParseTicket(s)
	if err != nil {
		if name, nerr := ipns.NameFromString(strings.TrimSpace(s)); nerr == nil {
			return Ticket{Live: name.Peer()}, nil
		}
		return t, err
	}
	if t.Live == "" {
		return t, fmt.Errorf("%w: not a live folder's ticket (a share's is fetched with get)", ErrBadTicket)
	}
	return t, nil
}

// ResumeLives takes up the live shares and follows the node ran before
// it stopped (the daemon calls it at start).
func (n *Node) ResumeLives(ctx context.Context) error {
	lvs, err := n.Lives()
	if err != nil {
		return err
	}
	var errs []error
	for _, li := range lvs {
		if li.Follow {
			t := Ticket{Live: li.Name}
			if ai := holdersOf(li.Holders); len(ai) > 0 {
				t.Peer = ai[0]
			}
			_, err = n.Follow(ctx, t, li.Dir)
		} else {
			_, err = n.ShareLive(ctx, li.Dir)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// follower is one running follow.
type follower struct {
	n    *Node
	nw   *netState
	name peer.ID
	dir  string
	kick chan struct{} // capacity 1: a newer version is in the book

	mu   sync.Mutex
	from map[peer.ID]bool // peers that told of a version: they hold it
	// spare is the peer of the ticket the follow started with (the sharer): asked
	// only for blocks no other follower holds, so that the sharer uploads
	// a change about once however many follow (live/stagger.go).
	spare []peer.ID
}

func (n *Node) startFollow(nw *netState, li *LiveInfo) {
	f := &follower{n: n, nw: nw, name: li.Name, dir: li.Dir, kick: make(chan struct{}, 1), from: map[peer.ID]bool{}}
	holders := holdersOf(li.Holders)
	if len(holders) > 0 {
		// The first ticket's peer, the sharer most often: asked only for
		// what the followers lack. Other holders are followers.
		f.spare = []peer.ID{holders[0].ID}
	}
	n.startLive(li.Name, func(ctx context.Context) {
		var wg sync.WaitGroup
		defer wg.Wait()
		// The version held is served again at once: this node holds it.
		// And a newer one the book took before a restart of the follow
		// (a stop cut its fetch short) is fetched: no holder tells of it
		// again, since it is not news to the book.
		if raw := f.record(); raw != nil {
			n.lv.book.Accept(li.Name, raw)
		}
		f.kickNow()
		for _, h := range holders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f.subscribe(ctx, h)
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.lookup(ctx)
		}()
		f.apply(ctx)
	})
}

func (f *follower) kickNow() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// subscribe keeps a subscription to holder h open while the follow
// runs, again after each failure: a follower away for any number of
// versions asks with the one it holds and is sent the newest.
func (f *follower) subscribe(ctx context.Context, h peer.AddrInfo) {
	backoff := time.Second
	for ctx.Err() == nil {
		if err := f.nw.swarm.Find(ctx, h); err == nil {
			start := time.Now()
			err = f.nw.live.Subscribe(ctx, h.ID, f.name, f.held(), func(from peer.ID, v live.Version) {
				f.mu.Lock()
				f.from[from] = true
				f.mu.Unlock()
				f.kickNow()
			})
			f.n.log.Debug("live: subscription ended", "holder", h.ID, "err", err)
			if errors.Is(err, live.ErrForged) || errors.Is(err, live.ErrBad) {
				// A holder that lies is said on ls and the page; the
				// others go on.
				f.n.updateLive(f.name, func(li *LiveInfo) { li.Err = err.Error() })
			}
			if time.Since(start) > time.Minute {
				backoff = time.Second
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Minute)
	}
}

// lookupEvery is how often a follow asks the DHT for the folder's
// newest record: its holders push each version at once, so the DHT is
// the way back only when every holder it knows is gone.
const lookupEvery = 5 * time.Minute

// lookup asks the DHT for the folder's record at once and then every
// lookupEvery, while the follow runs; a version found there is fetched
// from whoever provides its root.
func (f *follower) lookup(ctx context.Context) {
	r := f.nw.swarm.Routing
	if r == nil {
		return
	}
	key := string(ipns.NameFromPeer(f.name).RoutingKey())
	// Until a version is known (a follow by name, started as the sharer
	// put its first record), the DHT is asked again sooner.
	soon := 2 * time.Second
	for {
		gctx, cancel := context.WithTimeout(ctx, time.Minute)
		raw, err := r.GetValue(gctx, key)
		cancel()
		if err == nil {
			_, news, err := f.n.lv.book.Accept(f.name, raw)
			if err == nil && news {
				f.kickNow()
			}
			if v, ok := f.n.lv.book.Latest(f.name); err == nil && !news && ok && v.Seq == f.held() {
				// The version held, signed again by the sharer: served
				// and kept from now on, so it does not run out here.
				f.nw.live.Serve(v)
				f.n.updateLive(f.name, func(li *LiveInfo) { li.Record = v.Raw })
			}
			f.n.log.Debug("live: record from the DHT", "name", f.name, "news", news, "err", err)
		}
		wait := lookupEvery
		if _, ok := f.n.lv.book.Latest(f.name); !ok {
			wait, soon = soon, min(2*soon, lookupEvery)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// record is the signed record of the version the mirror holds.
func (f *follower) record() []byte {
	f.n.lv.mu.Lock()
	defer f.n.lv.mu.Unlock()
	for _, li := range f.n.lv.all {
		if li.Name == f.name {
			return li.Record
		}
	}
	return nil
}

// held is the version the mirror holds.
func (f *follower) held() uint64 {
	f.n.lv.mu.Lock()
	defer f.n.lv.mu.Unlock()
	for _, li := range f.n.lv.all {
		if li.Name == f.name {
			return li.Seq
		}
	}
	return 0
}

// apply brings the mirror to each newest version the book holds, one at
// a time, until ctx ends.
func (f *follower) apply(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.kick:
		}
		v, ok := f.n.lv.book.Latest(f.name)
		if !ok {
			continue
		}
		if v.Seq <= f.held() {
			f.nw.live.Serve(v) // held already (a restart): serve it
			continue
		}
		err := f.take(ctx, v)
		f.n.updateLive(f.name, func(li *LiveInfo) {
			li.Err = ""
			if err != nil {
				li.Err = err.Error()
			}
		})
		if err != nil && ctx.Err() == nil {
			f.n.log.Warn("live: follow", "name", f.name, "version", v.Seq, "err", err)
			time.AfterFunc(5*time.Second, f.kickNow) // try again
		}
	}
}

// take fetches version v, records it, writes the mirror and serves it.
func (f *follower) take(ctx context.Context, v live.Version) error {
	n := f.n
	f.mu.Lock()
	var from []peer.AddrInfo
	for p := range f.from {
		from = append(from, peer.AddrInfo{ID: p})
	}
	f.mu.Unlock()
	defer n.store.Hold(v.Root)()
	// holder: peer exchange finds the other followers.
	o := GetOptions{From: from, Stall: time.Minute, Spare: f.spare, holder: true, spareSince: time.Now()}
	// The version's folders and its files' top nodes say what changed.
	if err := f.fetchPart(ctx, v.Root, o, listing(chunker.DefaultMaxEntries)); err != nil {
		return err
	}
	entries, err := n.list(ctx, v.Root, chunker.DefaultMaxEntries)
	if err != nil {
		return fmt.Errorf("mirror %s: %w", f.dir, err)
	}
	plan, err := n.planMirror(ctx, entries, f.dir, f.name)
	if err == nil {
		err = f.write(ctx, v.Root, o, plan.write)
	}
	var later []string
	if err == nil {
		later, err = plan.prune()
	}
	if err == nil {
		err = f.write(ctx, v.Root, o, later)
	}
	if plan != nil {
		plan.noteWritten(append(plan.write, later...))
		conflicts, serr := n.saveManifest(f.name, plan)
		if err == nil {
			err = serr
		}
		n.updateLive(f.name, func(li *LiveInfo) { li.Conflicts = conflicts })
	}
	if err != nil {
		return err
	}
	// What the mirror does not take from the version (files the user
	// changed there) is held too, so that this node serves it whole.
	if err := f.fetchPart(ctx, v.Root, o, everything); err != nil {
		return err
	}
	if err := n.store.Sync(); err != nil {
		return err
	}
	// Pinned: the mirror's next version reads its unchanged files'
	// leaves through this one (the store points into the mirror), so a
	// quota evicting it would make the next change fetch the folder
	// whole. It costs the quota little: its leaves are the mirror's files.
	var size uint64
	for _, e := range entries {
		if e.Kind == "file" {
			size += uint64(e.Size)
		}
	}
	name := filepath.Base(f.dir)
	if err := n.recordVersion(Record{Root: v.Root, Kind: KindPin, Name: name, Size: size, Added: time.Now().UTC(), Live: f.name.String()}); err != nil {
		return err
	}
	var drop []string
	n.updateLive(f.name, func(li *LiveInfo) {
		li.Seq, li.Root, li.Changed, li.Record = v.Seq, v.Root.String(), time.Now().UTC(), v.Raw
		drop = n.keepVersion(li, li.Root)
	})
	n.forgetVersions(f.name.String(), drop)
	n.seedRecorded(ctx, v.Root)
	n.provide(v.Root)
	f.nw.live.Serve(v)
	return nil
}

// fetchPart fetches what below says of the version's DAG into the store.
func (f *follower) fetchPart(ctx context.Context, root cid.Cid, o GetOptions, below func(*merkledag.ProtoNode, *ft.FSNode) ([]cid.Cid, error)) error {
	ps := newPartSink(f.n, root, below)
	ps.whole = true
	if err := f.n.fetch(ctx, f.nw, root, o, ps); err != nil {
		return err
	}
	return ps.err
}

// write writes the version's files at paths into the mirror, as a get
// does: only their leaves not here are fetched, and the store points
// into the files written.
func (f *follower) write(ctx context.Context, root cid.Cid, o GetOptions, paths []string) error {
	if len(paths) == 0 {
		return nil // no Paths would take everything
	}
	o.Force, o.Paths = true, paths
	if err := o.compileOnly(); err != nil {
		return err
	}
	_, err := f.n.fetchAndExport(ctx, f.nw, root, filepath.Dir(f.dir), filepath.Base(f.dir), o)
	if err != nil {
		return fmt.Errorf("mirror %s: %w", f.dir, err)
	}
	return nil
}

// everything is a fetch's wants below a node: all it links to.
func everything(nd *merkledag.ProtoNode, _ *ft.FSNode) ([]cid.Cid, error) {
	out := make([]cid.Cid, 0, len(nd.Links()))
	for _, l := range nd.Links() {
		out = append(out, l.Cid)
	}
	return out, nil
}

// holdersOf reads a follow's holders in their order, leaving out what
// does not parse.
func holdersOf(ss []string) []peer.AddrInfo {
	var as []ma.Multiaddr
	for _, s := range ss {
		if a, err := ma.NewMultiaddr(s); err == nil {
			as = append(as, a)
		}
	}
	return swarm.AddrInfosInOrder(as)
}
