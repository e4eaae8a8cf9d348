package pollen

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/boxo/blockservice"
	dag "github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/pollen-p2p/pollen/blockstore"
	"github.com/pollen-p2p/pollen/chunker"
	"github.com/pollen-p2p/pollen/exchange"
	"github.com/pollen-p2p/pollen/live"
	"github.com/pollen-p2p/pollen/swarm"
)

// Re-exported so that callers of this package need no other pollen import.
type (
	// Progress receives done/total byte counts while an add or get runs.
	Progress = chunker.Progress
	// AddResult describes an imported file or folder.
	AddResult = chunker.ImportResult
	// GetResult describes what a get wrote.
	GetResult = chunker.ExportResult
	// Record is a root the repo keeps: shared or fetched.
	Record = blockstore.Record
	// Stat summarises the block store.
	Stat = blockstore.Stat
	// GCResult reports what GC removed.
	GCResult = blockstore.GCResult
	// VerifyResult reports what Verify found.
	VerifyResult = blockstore.VerifyResult
)

// Record kinds.
const (
	KindShare  = blockstore.KindShare
	KindPin    = blockstore.KindPin
	KindReseed = blockstore.KindReseed // fetched, not pinned: evicted first under a quota
)

// Errors callers can test for with errors.Is.
var (
	ErrNotLocal   = errors.New("not in the local store")
	ErrUnsafeName = chunker.ErrUnsafeName
	ErrExists     = chunker.ErrExists
	ErrTooLarge   = chunker.ErrTooLarge    // past an export budget (MaxEntries, depth, path length)
	ErrNoSpace    = chunker.ErrNoSpace     // the files need more than the target has free
	ErrUnsafeCID  = chunker.ErrUnsafeCID   // a link to a CID boxo would not fetch
	ErrDiskFull   = blockstore.ErrDiskFull // the repo's disk is full
)

// DefaultMaxEntries is the files and folders a get takes unless told
// otherwise (GetOptions.MaxEntries).
const DefaultMaxEntries = chunker.DefaultMaxEntries

// Config configures Open. The zero value works: the network, when
// started, listens on swarm.DefaultPort, runs mDNS and joins the public
// IPFS DHT.
type Config struct {
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// Listen overrides the listen addresses.
	Listen []ma.Multiaddr
	// Offline switches off the DHT and NAT port mapping.
	Offline bool
	// NoMDNS switches off LAN discovery.
	NoMDNS bool
	// Bootstrap overrides the DHT bootstrap peers (see swarm.Config).
	Bootstrap []peer.AddrInfo
	// Relays are relays to use when the node cannot be dialled (see
	// swarm.Config).
	Relays []peer.AddrInfo
	// RelayService, when set, makes the node a relay for others.
	RelayService *RelayLimits
	// Limits are the upload and download rates, bytes a second; 0 is no
	// limit.
	Limits Limits
	// Shaped keeps the rates changeable while the node runs (SetLimits),
	// at a small cost on every connection (see swarm.Config).
	Shaped bool
	// Seed are the seeding rules of roots without their own (see
	// SetSeeding); the zero value seeds for ever.
	Seed SeedRules
	// MaxStorage is the storage quota, bytes the store may hold itself;
	// 0 is none (see quota.go).
	MaxStorage int64
	// LiveQuiet and LiveRescan are a live share's quiet period and
	// rescan interval; 0 for DefaultLiveQuiet and DefaultLiveRescan.
	LiveQuiet, LiveRescan time.Duration
}

// Node is an open pollen repository. Its methods are safe for concurrent
// use, and those of the network are safe before StartNetwork: they
// return zero values or an error.
type Node struct {
	dir     string
	cfg     Config
	log     *slog.Logger
	store   *blockstore.Store
	dag     ipld.DAGService
	psk     []byte   // the private network's key (swarm.key); nil for none
	access  *access  // which peers are served which private blocks
	seeding *seeding // what each root uploaded, and which are not served
	unlock  func() error
	// importing is shared by running Adds and taken alone by GC.
	importing sync.RWMutex
	scrubOnce sync.Once // the scrubber started (ScrubWhileServing)
	q         quota
	lv        lives // live shares and follows

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the goroutines the node started; Close waits

	mu     sync.Mutex
	net    *netState // set once, by StartNetwork
	closed bool
}

// netState is what StartNetwork adds to a node.
type netState struct {
	swarm    *swarm.Swarm
	ex       *exchange.Exchange
	live     *live.Service
	announce chan cid.Cid // roots for the announcer; nil without a DHT
}

// Open opens the repository in dir, creating it if needed, and locks it
// for this process.
func Open(dir string, cfg Config) (*Node, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open repo: %w", err)
	}
	unlock, err := lockRepo(dir)
	if err != nil {
		return nil, err
	}
	st, err := blockstore.Open(filepath.Join(dir, "blocks"), blockstore.Options{Logger: cfg.Logger})
	if err != nil {
		unlock()
		return nil, err
	}
	psk, err := swarm.LoadPSK(filepath.Join(dir, swarm.PSKFile))
	if err != nil {
		st.Close()
		unlock()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Node{
		psk:     psk,
		dir:     dir,
		cfg:     cfg,
		log:     cfg.Logger,
		store:   st,
		dag:     dag.NewDAGService(blockservice.New(st, nil)),
		access:  newAccess(),
		seeding: newSeeding(cfg.Seed),
		lv:      lives{book: live.NewBook()},
		unlock:  unlock,
		ctx:     ctx,
		cancel:  cancel,
	}, nil
}

// PrivateNetwork reports whether the repo holds a swarm.key: the node
// then connects only to nodes holding the same key, over TCP alone.
func (n *Node) PrivateNetwork() bool { return n.psk != nil }

// Dir is the repository folder.
func (n *Node) Dir() string { return n.dir }

// Close stops the network and everything the node started, waits for
// it, flushes the store and releases the repository.
func (n *Node) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	nw := n.net
	n.mu.Unlock()
	n.cancel()
	n.wg.Wait()
	n.flushSeeding()
	var err error
	if nw != nil {
		err = errors.Join(nw.live.Close(), nw.ex.Close(), nw.swarm.Close())
	}
	if serr := n.store.Close(); err == nil {
		err = serr
	}
	if uerr := n.unlock(); err == nil {
		err = uerr
	}
	return err
}

// AddOptions tune Add.
type AddOptions struct {
	Hidden   bool     // include names starting with "."
	Progress Progress // nil for none
	// Private makes the share private: its blocks are served only to
	// peers that prove they hold its ticket's secret, and it is never
	// announced. A root shared privately before keeps its secret.
	Private bool
	// Allow limits a private share to these peers (and makes it private).
	Allow []peer.ID
}

// Add imports the file or folder at path and records it as a share.
// Under a quota, reseed content makes room for it first.
func (n *Node) Add(ctx context.Context, path string, o AddOptions) (AddResult, error) {
	n.roomToAdd(ctx, path)
	res, err := n.add(ctx, path, o)
	if err == nil {
		n.enforce(ctx, "add "+path)
	}
	return res, err
}

func (n *Node) add(ctx context.Context, path string, o AddOptions) (AddResult, error) {
	// An import finds blocks already stored and relies on them before
	// its root is known or recorded: GC waits for it (see GC).
	n.importing.RLock()
	defer n.importing.RUnlock()
	res, err := chunker.Import(ctx, n.store, path, chunker.ImportOptions{Hidden: o.Hidden, Progress: o.Progress})
	if err != nil {
		return res, err
	}
	rec := Record{Root: res.Root, Kind: KindShare, Name: res.Name, Size: uint64(res.Size), Added: time.Now().UTC()}
	if o.Private || len(o.Allow) > 0 {
		if rec.Secret, err = n.secretOf(res.Root); err != nil {
			return res, fmt.Errorf("add %s: %w", path, err)
		}
		for _, p := range o.Allow {
			rec.Allow = append(rec.Allow, p.String())
		}
		// Its blocks are private before the record says so.
		if err := n.refreshAccess(ctx, rec); err != nil {
			return res, fmt.Errorf("add %s: %w", path, err)
		}
	}
	if err := n.store.PutRecord(rec); err != nil { // syncs: the commit point
		return res, fmt.Errorf("add %s: %w", path, err)
	}
	if !rec.Private() {
		// It may hold blocks of a private share, public now.
		if err := n.refreshAccess(ctx); err != nil {
			return res, fmt.Errorf("add %s: %w", path, err)
		}
	}
	if err := n.seedRecorded(ctx, res.Root); err != nil {
		return res, fmt.Errorf("add %s: %w", path, err)
	}
	return res, nil
}

// GetOptions tune Get.
type GetOptions struct {
	Name  string // name to write under dir; default: the record's name, else the CID
	Force bool   // replace existing files
	// MaxEntries refuses a DAG of more files and folders; 0 for
	// chunker.DefaultMaxEntries.
	MaxEntries int
	// Path names a file or folder inside the root (photos/2024) to take
	// alone; its last element is the default name.
	Path string
	// Only takes the files whose path inside the root matches one of
	// these patterns (see chunker.Only), and what they need: nothing of
	// the others is fetched beyond a file's top node.
	Only []string
	// Paths takes the files at these paths inside the root (and all under
	// the folders among them), as a pick from a listing (Tree) names
	// them; with Only, a file either takes is taken.
	Paths    []string
	only     func(string) bool // Only and Paths, compiled
	Progress Progress          // export progress; nil for none
	// FileDone is told of each file written whole (its path under dir,
	// the get's name first, and its size); nil for none.
	FileDone func(rel string, size int64)
	// Pin keeps the root whatever the storage quota; without it, a
	// fetched root is reseed content, the first to go (see quota.go).
	Pin bool

	// Secret and Allow are a private share's (its ticket's): the get asks
	// only peers that prove they hold the share, and this node then
	// serves it only to peers that prove it too.
	Secret []byte
	Allow  []peer.ID

	// With the network started:
	From  []peer.AddrInfo     // peers to dial first (a ticket's, --from)
	Stall time.Duration       // give up when no block arrives for this long; 0: never
	Fetch func(FetchProgress) // transfer progress; nil for none
	// Spare peers are asked only for blocks no other peer holds.
	Spare []peer.ID
	// holder: the fetch is of a node that will hold the whole root (a
	// follow's version), also when it takes part of it at a time, so it
	// asks its peers for the root's other holders.
	holder bool
	// spareSince: spare peers' grace counts from then (a follow's
	// version, fetched in parts), not from each fetch's start.
	spareSince time.Time
}

// compileOnly makes o.only of Only and Paths; nil when both are empty.
func (o *GetOptions) compileOnly() error {
	var takes []func(string) bool
	if len(o.Only) > 0 {
		f, err := chunker.Only(o.Only)
		if err != nil {
			return fmt.Errorf("--only: %w", err)
		}
		takes = append(takes, f)
	}
	if len(o.Paths) > 0 {
		f, err := chunker.Paths(o.Paths)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrBadPath, err)
		}
		takes = append(takes, f)
	}
	switch len(takes) {
	case 0:
		o.only = nil
	case 1:
		o.only = takes[0]
	default:
		o.only = func(p string) bool { return takes[0](p) || takes[1](p) }
	}
	return nil
}

// ErrBadPath: a path given to take (GetOptions.Paths) is not a clean path
// inside the share.
var ErrBadPath = errors.New("bad path")

// Get writes the DAG under root to dir/name and keeps its blocks (a
// reseed record, or a pin with o.Pin), so this node serves them on.
func (n *Node) Get(ctx context.Context, root cid.Cid, dir string, o GetOptions) (GetResult, error) {
	whole := o.Path == "" // the record will hold all a private get brings
	if o.Path != "" {
		sub, err := n.Resolve(ctx, root, o.Path, o)
		if err != nil {
			return GetResult{}, fmt.Errorf("get %s: %w", root, err)
		}
		root, o.Name, o.Path = sub, path.Base(strings.Trim(o.Path, "/")), ""
	}
	name := o.Name
	if name == "" {
		name = n.nameOf(root)
	}
	if err := chunker.CheckName(name); err != nil {
		return GetResult{}, fmt.Errorf("get %s: %w", root, err)
	}
	if err := o.compileOnly(); err != nil {
		return GetResult{}, fmt.Errorf("get %s: %w", root, err)
	}
	// GC keeps what this get found and writes until its record is.
	defer n.store.Hold(root)()
	var res GetResult
	var err error
	if nw := n.online(); nw != nil {
		res, err = n.fetchAndExport(ctx, nw, root, dir, name, o)
	} else if err = n.ensureLocal(ctx, root); err == nil {
		res, err = chunker.Export(ctx, n.dag, root, dir, name, chunker.ExportOptions{Force: o.Force, Progress: o.Progress, MaxEntries: o.MaxEntries, Only: o.only, FileDone: o.FileDone})
		if ipld.IsNotFound(err) {
			// A block kept in a file an earlier get wrote had changed there
			// when read: it is dropped from the store and must be fetched.
			// Nothing of the user's was written over (the partial file is
			// gone), so going online and getting again is safe.
			err = fmt.Errorf("get %s: %w: %v", root, ErrNotLocal, err)
		}
	}
	if err != nil {
		return res, err
	}
	if o.only != nil {
		// Some files of the root: kept as files, not recorded nor
		// announced as the root, which this node does not hold whole.
		return res, nil
	}
	if err := n.recordFetched(ctx, root, name, uint64(res.Size), o); err != nil {
		return res, fmt.Errorf("get %s: %w", root, err)
	}
	if o.Secret != nil && whole {
		n.access.settle(exchange.TagOf(o.Secret))
	}
	if err := n.seedRecorded(ctx, root); err != nil {
		return res, fmt.Errorf("get %s: %w", root, err)
	}
	n.use(root)
	if o.Secret == nil {
		n.provide(root)
	}
	n.enforce(ctx, "get "+root.String())
	return res, nil
}

// Complete reports, with ErrNotLocal, whether a block of root's DAG is
// missing from the store.
func (n *Node) Complete(ctx context.Context, root cid.Cid) error {
	return n.ensureLocal(ctx, root)
}

// ensureLocal walks the DAG under root and fails with ErrNotLocal naming
// the first block the store lacks, before anything is written.
func (n *Node) ensureLocal(ctx context.Context, root cid.Cid) error {
	stack := []cid.Cid{root}
	// A node may occur any number of times: read once. Leaves are only
	// looked up, so what this holds grows with the nodes, not the files.
	seen := map[string]bool{}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if c.Type() != cid.DagProtobuf {
			ok, err := n.store.Has(ctx, c)
			if err != nil {
				return fmt.Errorf("get %s: %w", root, err)
			}
			if !ok {
				return missing(root, c)
			}
			continue
		}
		if seen[string(c.Hash())] {
			continue
		}
		seen[string(c.Hash())] = true
		nd, err := n.dag.Get(ctx, c)
		if ipld.IsNotFound(err) {
			return missing(root, c)
		}
		if err != nil {
			return fmt.Errorf("get %s: %w", root, err)
		}
		for _, l := range nd.Links() {
			stack = append(stack, l.Cid)
		}
	}
	return nil
}

func missing(root, c cid.Cid) error {
	if root == c {
		return fmt.Errorf("get %s: %w", root, ErrNotLocal)
	}
	return fmt.Errorf("get %s: block %s %w", root, c, ErrNotLocal)
}

// Cat writes the file at root to w.
func (n *Node) Cat(ctx context.Context, root cid.Cid, w io.Writer) error {
	if err := n.ensureLocal(ctx, root); err != nil {
		return err
	}
	n.use(root)
	_, err := chunker.Cat(ctx, n.dag, root, w)
	return err
}

// nameOf is the name root is shared or kept under, else its CID.
func (n *Node) nameOf(root cid.Cid) string {
	recs, _ := n.store.RecordsOf(root)
	for _, r := range recs {
		if chunker.CheckName(r.Name) == nil {
			return r.Name
		}
	}
	return root.String()
}

// List returns the shared and fetched roots.
func (n *Node) List() ([]Record, error) { return n.store.Records() }

// Remove forgets root (share and pin); its blocks go at the next GC,
// but a private share's go at once: a block no record holds is served to
// anyone who names it.
func (n *Node) Remove(root cid.Cid) error {
	recs, err := n.store.RecordsOf(root)
	if err != nil {
		return err
	}
	found, err := n.store.DeleteRecords(root)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("rm %s: %w", root, ErrNotFound)
	}
	for _, r := range recs {
		if r.Private() {
			if _, err := n.GC(n.ctx); err != nil {
				return fmt.Errorf("rm %s: %w", root, err)
			}
			break
		}
	}
	if err := n.store.ForgetUsed(root); err != nil {
		return err
	}
	if err := n.seedRecorded(n.ctx, root); err != nil {
		return err
	}
	return n.refreshAccess(n.ctx)
}

// secretOf returns root's private share secret, or a new one.
func (n *Node) secretOf(root cid.Cid) ([]byte, error) {
	recs, err := n.store.RecordsOf(root)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		if r.Private() {
			return r.Secret, nil
		}
	}
	secret := make([]byte, swarm.SecretLen)
	rand.Read(secret)
	return secret, nil
}

// GC deletes blocks that no share or pin reaches and reclaims disk space.
// It keeps what running gets hold and waits for running imports.
func (n *Node) GC(ctx context.Context) (GCResult, error) {
	n.importing.Lock()
	defer n.importing.Unlock()
	return n.store.GC(ctx)
}

// Verify re-hashes every block; drop removes corrupt ones.
func (n *Node) Verify(ctx context.Context, drop bool) (VerifyResult, error) {
	return n.store.Verify(ctx, drop)
}

// MissingFiles lists the files gets wrote that the store points into and
// that are gone since (moved or deleted): their blocks are no longer
// served until they are fetched again. A live mirror's files are left
// out: its versions rename and delete them, and the store's references
// into them go with the versions kept.
func (n *Node) MissingFiles() ([]string, error) {
	miss, err := n.store.MissingFiles()
	if err != nil || len(miss) == 0 {
		return miss, err
	}
	lvs, err := n.Lives()
	if err != nil {
		return nil, err
	}
	var mirrors []string
	for _, l := range lvs {
		if l.Follow {
			mirrors = append(mirrors, l.Dir+string(filepath.Separator))
		}
	}
	out := miss[:0]
	for _, m := range miss {
		if !slices.ContainsFunc(mirrors, func(d string) bool { return strings.HasPrefix(m, d) }) {
			out = append(out, m)
		}
	}
	return out, nil
}

// Stat counts the blocks and bytes stored.
func (n *Node) Stat(ctx context.Context) (Stat, error) { return n.store.Stat(ctx) }
