package pollen

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/ipfs/boxo/ipns"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/pollen-p2p/pollen/chunker"
	"github.com/pollen-p2p/pollen/live"
	"github.com/pollen-p2p/pollen/swarm"
)

// A live share is a folder this node publishes as it changes: it is
// imported again after each change (only the files that changed are
// read: chunker.FileCache), and each new root is signed by the folder's
// own key as the next version and pushed to its followers.

// Quiet periods and rescans: a live folder is published this long after
// its last change, and imported again this often whatever its watches
// said (see folderWatch).
const (
	DefaultLiveQuiet  = 2 * time.Second
	DefaultLiveRescan = time.Minute
)

// ShareLive shares the folder at dir live and keeps publishing its
// versions until StopLive or Close. Sharing the same folder again takes
// up its key and versions: tickets given out stay good.
func (n *Node) ShareLive(ctx context.Context, dir string) (LiveInfo, error) {
	nw := n.online()
	if nw == nil {
		return LiveInfo{}, errors.New("share --live: the network is not started")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return LiveInfo{}, fmt.Errorf("share --live %s: %w", dir, err)
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return LiveInfo{}, fmt.Errorf("share --live %s: %w: not a folder", dir, ErrBadPath)
	}
	if err := n.loadLives(); err != nil {
		return LiveInfo{}, err
	}
	li, key, err := n.liveShareOf(abs)
	if err != nil {
		return LiveInfo{}, fmt.Errorf("share --live %s: %w", dir, err)
	}
	n.lv.mu.Lock()
	_, running := n.lv.running[li.Name]
	n.lv.mu.Unlock()
	if running {
		return *li, nil
	}
	ls := &liveShare{n: n, nw: nw, li: li, key: key, cache: new(chunker.FileCache)}
	fw := watchFolder(abs) // before the import: what changes during it is seen
	if err := ls.publish(ctx); err != nil {
		fw.close()
		return *li, err
	}
	n.startLive(li.Name, func(ctx context.Context) {
		fw.run(ctx, n.liveQuiet(), n.liveRescan(), func() {
			err := ls.publish(ctx)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				n.log.Warn("live share", "dir", abs, "err", err)
			}
			ls.noteErr(err)
		})
	})
	n.lv.mu.Lock()
	defer n.lv.mu.Unlock()
	return *li, nil
}

// liveShareOf returns the live share of the folder at abs, new (with a
// key of its own) if there is none.
func (n *Node) liveShareOf(abs string) (*LiveInfo, crypto.PrivKey, error) {
	n.lv.mu.Lock()
	defer n.lv.mu.Unlock()
	for _, li := range n.lv.all {
		if !li.Follow && li.Dir == abs {
			key, err := swarm.LoadIdentity(filepath.Join(n.dir, liveDir, li.KeyFile))
			return li, key, err
		}
	}
	var b [8]byte
	rand.Read(b[:])
	file := "share-" + hex.EncodeToString(b[:]) + ".key"
	key, err := swarm.LoadIdentity(filepath.Join(n.dir, liveDir, file)) // Ed25519, 0600
	if err != nil {
		return nil, nil, err
	}
	name, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	li := &LiveInfo{Name: name, Dir: abs, KeyFile: file}
	n.lv.all = append(n.lv.all, li)
	return li, key, n.saveLives()
}

// startLive runs f until StopLive(name) or Close.
func (n *Node) startLive(name peer.ID, f func(context.Context)) {
	ctx, cancel := context.WithCancel(n.ctx)
	done := make(chan struct{})
	n.lv.mu.Lock()
	n.lv.running[name] = func() { cancel(); <-done }
	n.lv.mu.Unlock()
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer close(done)
		f(ctx)
	}()
}

// StopLive stops sharing or following the live folder name and forgets
// it, key and all. The folder or the mirror stays as it is: its files
// are the user's now. Its versions' records go (not the user's own
// records of the same roots), so GC frees what nothing else keeps:
// nobody asks this node for them any more.
func (n *Node) StopLive(name peer.ID) error {
	if err := n.loadLives(); err != nil {
		return err
	}
	n.lv.mu.Lock()
	stop := n.lv.running[name]
	delete(n.lv.running, name)
	n.lv.mu.Unlock()
	if stop != nil {
		stop()
	}
	n.lv.mu.Lock()
	var gone *LiveInfo
	for i, li := range n.lv.all {
		if li.Name == name {
			gone = li
			n.lv.all = append(n.lv.all[:i], n.lv.all[i+1:]...)
			break
		}
	}
	var err error
	if gone != nil {
		err = n.saveLives()
	}
	n.lv.mu.Unlock()
	if gone == nil {
		return fmt.Errorf("live %s: %w", name, ErrNotFound)
	}
	// Its records by the list it keeps, and any a stop mid-version left
	// out of that list.
	roots := gone.Versions
	if recs, lerr := n.List(); lerr == nil {
		for _, r := range recs {
			if r.Live == name.String() {
				roots = append(roots, r.Root.String())
			}
		}
	}
	n.forgetVersions(name.String(), roots)
	if nw := n.online(); nw != nil {
		nw.live.Withdraw(name)
	}
	if !gone.Follow && gone.KeyFile != "" {
		// Nothing names the key any more: a folder shared live again
		// gets a new one, and a secret key no use reaches goes.
		os.Remove(filepath.Join(n.dir, liveDir, gone.KeyFile))
	}
	return err
}

func (n *Node) liveQuiet() time.Duration {
	if n.cfg.LiveQuiet > 0 {
		return n.cfg.LiveQuiet
	}
	return DefaultLiveQuiet
}

func (n *Node) liveRescan() time.Duration {
	if n.cfg.LiveRescan > 0 {
		return n.cfg.LiveRescan
	}
	return DefaultLiveRescan
}

// LiveTicket is the ticket of the live folder name: its version held
// now, this node as its holder.
func (n *Node) LiveTicket(name peer.ID) (Ticket, error) {
	lvs, err := n.Lives()
	if err != nil {
		return Ticket{}, err
	}
	for _, li := range lvs {
		if li.Name == name && li.Root != "" {
			root, err := cid.Decode(li.Root)
			if err != nil {
				return Ticket{}, err
			}
			return Ticket{Root: root, Name: filepath.Base(li.Dir), Peer: n.AddrInfo(), Live: name, Holders: n.liveHolders(name)}, nil
		}
	}
	return Ticket{}, fmt.Errorf("live %s: %w", name, ErrNotFound)
}

// ticketHolders is how many followers a live ticket names besides this
// node: enough that one is up when the sharer is not, few enough that
// the ticket still fits a QR code.
const ticketHolders = 3

// liveHolders are the followers of name here, the longest subscribed
// first, with at most two addresses each, loopback ones only when this
// node's own are (a test, or one machine).
func (n *Node) liveHolders(name peer.ID) []peer.AddrInfo {
	nw := n.online()
	if nw == nil {
		return nil
	}
	local := true
	for _, a := range n.AddrInfo().Addrs {
		local = local && manet.IsIPLoopback(a)
	}
	var out []peer.AddrInfo
	for _, p := range nw.live.FollowerIDs(name) {
		if len(out) == ticketHolders {
			break
		}
		h := peer.AddrInfo{ID: p}
		for _, a := range nw.swarm.Host.Peerstore().Addrs(p) {
			if len(h.Addrs) < 2 && (local || !manet.IsIPLoopback(a)) {
				h.Addrs = append(h.Addrs, a)
			}
		}
		out = append(out, h)
	}
	return out
}

// liveShare is one running live share.
type liveShare struct {
	n     *Node
	nw    *netState
	li    *LiveInfo // under n.lv.mu
	key   crypto.PrivKey
	cache *chunker.FileCache
	put   time.Time // when the record was last put on the DHT
}

// reputEvery is how often an unchanged version's record, signed again,
// is put on the DHT (as Kubo republishes IPNS records every 4 hours).
const reputEvery = 4 * time.Hour

// publish imports the folder and, when its root changed, records it and
// publishes it as the next version.
func (ls *liveShare) publish(ctx context.Context) error {
	n := ls.n
	n.importing.RLock()
	res, err := chunker.Import(ctx, n.store, ls.li.Dir, chunker.ImportOptions{Cache: ls.cache})
	if err == nil {
		err = n.recordVersion(Record{Root: res.Root, Kind: KindShare, Name: res.Name, Size: uint64(res.Size), Added: time.Now().UTC(), Live: ls.li.Name.String()})
	}
	n.importing.RUnlock()
	if err != nil {
		return fmt.Errorf("share --live %s: %w", ls.li.Dir, err)
	}
	n.lv.mu.Lock()
	seq, same := ls.li.Seq, ls.li.Root == res.Root.String()
	n.lv.mu.Unlock()
	if !same {
		seq++
	}
	v, err := live.Sign(ls.key, res.Root, seq, time.Now())
	if err != nil {
		return err
	}
	if _, _, err := n.lv.book.Put(v); err != nil {
		return fmt.Errorf("share --live %s: %w", ls.li.Dir, err)
	}
	ls.nw.live.Serve(v)
	if same {
		if time.Since(ls.put) > reputEvery {
			ls.put = time.Now()
			n.putRecordDHT(ls.nw, v) // signed again: DHT nodes drop records after a day or two
		}
		return nil
	}
	ls.put = time.Now()
	var drop []string
	n.updateLive(ls.li.Name, func(li *LiveInfo) {
		li.Seq, li.Root, li.Changed, li.Record = seq, res.Root.String(), time.Now().UTC(), v.Raw
		drop = n.keepVersion(li, li.Root)
	})
	n.forgetVersions(ls.li.Name.String(), drop)
	if err := n.seedRecorded(ctx, res.Root); err != nil {
		return err
	}
	n.provide(res.Root)
	n.putRecordDHT(ls.nw, v)
	return nil
}

// noteErr keeps the last publish's error for ls and the page (a folder
// moved away, a file that cannot be read), until a publish succeeds.
func (ls *liveShare) noteErr(err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	ls.n.lv.mu.Lock()
	same := ls.li.Err == msg
	ls.n.lv.mu.Unlock()
	if !same {
		ls.n.updateLive(ls.li.Name, func(li *LiveInfo) { li.Err = msg })
	}
}

// recordVersion records a version of a live folder, unless the user
// keeps that root already (a share or a pin of their own stays theirs,
// and is not dropped with the folder's old versions).
func (n *Node) recordVersion(rec Record) error {
	recs, err := n.store.RecordsOf(rec.Root)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if r.Live == "" {
			return nil
		}
	}
	return n.store.PutRecord(rec)
}

// forgetVersions drops the live folder name's records of versions no
// longer kept (not the user's own records of the same roots); GC then
// takes what no other record reaches.
func (n *Node) forgetVersions(name string, roots []string) {
	for _, s := range roots {
		c, err := cid.Decode(s)
		if err != nil {
			continue
		}
		recs, _ := n.store.RecordsOf(c)
		for _, r := range recs {
			if r.Live == name {
				if err := n.store.DeleteRecord(r.Kind, c); err != nil {
					n.log.Warn("live: forget a version", "root", c, "err", err)
				}
			}
		}
		n.seedRecorded(n.ctx, c)
	}
}

// putRecordDHT publishes v on the DHT, when there is one, in the
// background: a put takes seconds and the push has told followers.
func (n *Node) putRecordDHT(nw *netState, v live.Version) {
	if nw.swarm.Routing == nil {
		return
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		ctx, cancel := context.WithTimeout(n.ctx, time.Minute)
		defer cancel()
		key := string(ipns.NameFromPeer(v.Name).RoutingKey())
		if err := nw.swarm.Routing.PutValue(ctx, key, v.Raw); err != nil {
			n.log.Debug("live: put record", "name", v.Name, "err", err)
		}
	}()
}
