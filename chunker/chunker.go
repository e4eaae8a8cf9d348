package chunker

import (
	"context"
	"errors"

	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	mh "github.com/multiformats/go-multihash"
)

// The unixfs-v1-2025 import profile (IPIP-499), as Kubo's
// `ipfs init --profile=unixfs-v1-2025` sets it.
const (
	chunkSize     = 1 << 20   // fixed-size chunks of 1 MiB
	maxFileLinks  = 1024      // links per file node, balanced layout
	hamtFanout    = 256       // HAMT shard width
	hamtThreshold = 256 << 10 // a directory whose dag-pb block would pass 256 KiB becomes a HAMT
)

// Builder makes the CIDs of the profile: CIDv1, sha2-256, dag-pb for nodes
// (raw for leaves).
var Builder = cid.V1Builder{Codec: cid.DagProtobuf, MhType: mh.SHA2_256, MhLength: -1}

// Store is what import writes blocks to and export reads them from. A boxo
// blockstore.Blockstore satisfies it.
type Store interface {
	Get(context.Context, cid.Cid) (blocks.Block, error)
	PutMany(context.Context, []blocks.Block) error
}

// Progress receives byte counts as an import or export runs: done of total
// content bytes. Calls come from one goroutine at a time.
type Progress interface {
	Progress(done, total int64)
}

// ErrUnsafeName is wrapped by every export error caused by a name that
// could escape the target folder, or that the system written on cannot
// store as given (on Windows, see [CheckWindowsName]).
var ErrUnsafeName = errors.New("unsafe name")

// ErrExists is wrapped when export would overwrite a file without Force.
var ErrExists = errors.New("already exists")

// ErrTooLarge is wrapped when a DAG would make an export pass its budget
// (ExportOptions.MaxEntries, or folders nested deeper than maxDirDepth).
var ErrTooLarge = errors.New("larger than this export allows")

// ErrUnsafeCID is wrapped when a DAG links to a CID that is not fetched:
// see checkCID.
var ErrUnsafeCID = errors.New("refused CID")

// ImportOptions tune Import; the zero value follows Kubo's defaults.
type ImportOptions struct {
	Hidden   bool     // include names starting with "." (Kubo's --hidden)
	Progress Progress // nil for none
	// Cache, when set, skips files unchanged since the last import that
	// used it (see FileCache), and is updated when this one succeeds.
	Cache *FileCache
	// Reused, when set, counts the files the cache spared (read from it).
	Reused *int
}

// ImportResult describes what Import stored.
type ImportResult struct {
	Root          cid.Cid
	Name          string // base name of the imported path
	Size          int64  // content bytes of the regular files
	Files, Dirs   int
	Symlinks      int
	SkippedHidden int // hidden entries left out because Hidden was false
}

// ExportOptions tune Export.
type ExportOptions struct {
	Force    bool     // replace existing files (never directories or symlinks)
	Progress Progress // nil for none
	// MaxEntries bounds the files, folders and symlinks an export plans,
	// and 16 times as many blocks inside files: a DAG of a few blocks can
	// name a folder from many places, and each place costs memory until
	// the export ends. 0 means DefaultMaxEntries.
	MaxEntries int
	// Only, when set, picks the files and symlinks written by their
	// slash-separated path inside the share (see Only); nil takes all.
	Only func(inside string) bool

	// FileDone, when set, is told of each file as its last byte is in
	// place (its path under the target folder, the export's name first,
	// slash-separated, and its size),
	// while the export goes on: a transfer's per-file progress. It is
	// called with the export's lock held and must not block.
	FileDone func(rel string, size int64)

	// Renamed, when set, is told of complete files given their own names,
	// a batch at a time, with every raw leaf in each and where: a store
	// points at them there. The temporary names stay until it returns.
	Renamed func([]Moved) error
}

// Moved is a complete file given its own name (absolute paths), with
// its raw leaves there.
type Moved struct {
	From, To string
	Leaves   []Placed
	linked   bool // To is a hard link of From, which is removed after Renamed
}

// DefaultMaxEntries is the export budget when ExportOptions.MaxEntries is
// 0: a million files and folders. Memory no longer grows with them (an
// export holds the places on its path and a window); the budget bounds
// the files, inodes and time a stranger's DAG can make a get spend.
const DefaultMaxEntries = 1 << 20

// ExportResult describes what Export wrote.
type ExportResult struct {
	Path        string // the file or folder written
	Size        int64  // content bytes written
	Files, Dirs int
	Symlinks    int
}

// NodeGetter is the narrow view of a DAG that export and cat need: a
// boxo merkledag DAGService, or one backed by the network.
type NodeGetter = ipld.NodeGetter
