package pollen

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ipfs/boxo/ipld/merkledag"
	ft "github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/pollen-p2p/pollen/live"
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
	var holders []string
	if t.Peer.ID != "" {
		if as, err := peer.AddrInfoToP2pAddrs(&t.Peer); err == nil {
			for _, a := range as {
				holders = append(holders, a.String())
			}
		}
		if len(t.Peer.Addrs) == 0 {
			holders = append(holders, "/p2p/"+t.Peer.ID.String())
		}
	}
	n.lv.mu.Lock()
	var li *LiveInfo
	for _, l := range n.lv.all {
		if l.Name == t.Live {
			li = l
		}
	}
	if li == nil {
		li = &LiveInfo{Follow: true, Name: t.Live, Dir: abs, Holders: holders}
		n.lv.all = append(n.lv.all, li)
	} else if li.Follow && li.Dir != abs {
		n.lv.mu.Unlock()
		return *li, fmt.Errorf("follow: already mirrored in %s: %w", li.Dir, ErrExists)
	}
	err = n.saveLives()
	_, running := n.lv.running[t.Live]
	out := *li
	n.lv.mu.Unlock()
	if err != nil {
		return out, fmt.Errorf("follow: %w", err)
	}
	if !running {
		n.startFollow(nw, li)
	}
	return out, nil
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
	// spare are the holders the follow started with (the sharer): asked
	// only for blocks no other follower holds, so that the sharer uploads
	// a change about once however many follow (live/stagger.go).
	spare []peer.ID
}

func (n *Node) startFollow(nw *netState, li *LiveInfo) {
	f := &follower{n: n, nw: nw, name: li.Name, dir: li.Dir, kick: make(chan struct{}, 1), from: map[peer.ID]bool{}}
	holders := holdersOf(li.Holders)
	for _, h := range holders {
		f.spare = append(f.spare, h.ID)
	}
	n.startLive(li.Name, func(ctx context.Context) {
		var wg sync.WaitGroup
		defer wg.Wait()
		// The version held is served again at once: this node holds it.
		if raw := f.record(); raw != nil {
			if _, _, err := n.lv.book.Accept(li.Name, raw); err == nil {
				f.kickNow()
			}
		}
		for _, h := range holders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f.subscribe(ctx, h)
			}()
		}
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
	ps := newPartSink(n, v.Root, everything)
	ps.whole = true // peer exchange finds the other followers
	if err := n.fetch(ctx, f.nw, v.Root, GetOptions{From: from, Stall: time.Minute, Spare: f.spare}, ps); err != nil {
		return err
	}
	if ps.err != nil {
		return ps.err
	}
	if err := n.store.Sync(); err != nil {
		return err
	}
	name := filepath.Base(f.dir)
	size, err := n.contentSize(ctx, v.Root)
	if err != nil {
		return err
	}
	if err := n.recordVersion(Record{Root: v.Root, Kind: KindReseed, Name: name, Size: size, Added: time.Now().UTC(), Live: f.name.String()}); err != nil {
		return err
	}
	conflicts, err := n.mirror(ctx, v.Root, f.dir, f.name)
	if err != nil {
		return err
	}
	var drop []string
	n.updateLive(f.name, func(li *LiveInfo) {
		li.Seq, li.Root, li.Changed, li.Conflicts, li.Record = v.Seq, v.Root.String(), time.Now().UTC(), conflicts, v.Raw
		drop = n.keepVersion(li, li.Root)
	})
	n.forgetVersions(f.name.String(), drop)
	n.seedRecorded(ctx, v.Root)
	n.provide(v.Root)
	f.nw.live.Serve(v)
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

// holdersOf reads a follow's holders, leaving out what does not parse.
func holdersOf(ss []string) []peer.AddrInfo {
	var as []ma.Multiaddr
	for _, s := range ss {
		if a, err := ma.NewMultiaddr(s); err == nil {
			as = append(as, a)
		}
	}
	ai, _ := peer.AddrInfosFromP2pAddrs(as...)
	return ai
}
