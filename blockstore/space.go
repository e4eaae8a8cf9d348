package blockstore

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// ErrDiskFull is returned, wrapped in a message that says how much is free
// and how much was needed, by a write that would not fit on the disk, and
// by Open when the store cannot even be opened read-only.
var ErrDiskFull = errors.New("disk full")

// Disk space. Badger writes its logs and tables through mmap over sparse
// files: a page it touches when the file system has none left is not an
// error but SIGBUS, which kills the process, and the next open, which
// replays the logs and flushes them into tables, dies the same way. So no
// Badger write may ever meet a full disk. Every write the store makes is
// admitted first against the free space (statfs), keeping back what Badger
// may still take on its own (headroom); what does not fit is refused with
// ErrDiskFull before a byte is written. Against the disk filling from
// outside while the store is closed, a spare file of preallocated space
// waits in the store's folder: Open, or a write that frees space (rm,
// GC), deletes it when Badger would not have room otherwise, so the user
// can still remove roots and collect garbage; it is made again once there
// is room. A disk filling from outside while the store is open is caught
// only at the next write's check.
const (
	spareName = "spare"

	// slack covers Badger's small allocations: the first pages of each new
	// log file, the DISCARD file (1 MiB), the MANIFEST's growth, and on
	// tmpfs the page a read of a log's unwritten tail allocates. A write
	// that grows the store keeps it back a second time, as room for rm
	// and GC after it is refused.
	slack = 4 << 20

	// entryCost is what one index entry costs beyond its key and value:
	// the log's header and checksum, the table's offsets and Bloom bits.
	entryCost = 64
	// indexCopies is how many times an index entry ends up on disk while
	// Badger works: in the log, in the table flushed from it, and in the
	// table a compaction writes before it deletes the old one, which may
	// be half as big again (Bloom filter, block index).
	indexCopies = 4

	// Between two measures of Badger's files the index bytes admitted are
	// counted instead, pessimistically; these bound how stale the measure
	// may get, and so how far it errs.
	rescanEvery = time.Second
	rescanBytes = 1 << 20
)

// space admits the writes of an on-disk store.
type space struct {
	dir      string // the store's folder, named in messages
	index    string // Badger's folder
	spare    string
	spareLen int64

	mu        sync.Mutex
	readOnly  error // why the store was opened read-only; nil if it was not
	headroom  int64 // at the last scan
	scanned   time.Time
	sinceScan int64 // index bytes admitted since the scan, one copy each
	inflight  int64 // bytes admitted and not yet written
	spareGone bool
}

func newSpace(dir string, o badger.Options) *space {
	return &space{
		dir:   dir,
		index: o.Dir,
		spare: filepath.Join(dir, spareName),
		// Room for Badger to flush full memtables, which is the most an
		// open after a crash has to do before anything else.
		spareLen: int64(o.NumMemtables) * o.MemTableSize,
	}
}

// badgerHeadroom is the space Badger may still take without another write
// of ours: a table for each write-ahead log it holds (flushed at close, or
// at open after a crash), and the compaction that merges those tables
// with every table they overlap, written before the old ones go. Keys are
// hashes, so a new table overlaps all of the level below it. The value
// log gets only the values past the value threshold, which this store
// never writes, so its files stay at their first page. Logs are counted
// by the pages they hold, not their size: Badger makes each one a sparse
// file twice MemTableSize long. It also reports whether a log holds
// entries, which a read-only open cannot replay.
func badgerHeadroom(index string) (need int64, logs bool, err error) {
	ents, err := os.ReadDir(index)
	if errors.Is(err, os.ErrNotExist) {
		return slack, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	var wal, lsm int64
	for _, e := range ents {
		info, err := e.Info()
		if err != nil {
			continue // compacted away meanwhile
		}
		switch filepath.Ext(e.Name()) {
		case ".mem":
			wal += allocated(info)
			logs = logs || info.Size() > 0
		case ".sst":
			lsm += info.Size()
		}
	}
	flush := wal * 3 / 2
	return flush + (lsm + flush) + slack, logs, nil
}

// indexBytes is what n index entries with keys and values of these
// lengths take in one copy.
func indexBytes(n int, keysAndValues int) int64 {
	return int64(n*entryCost + keysAndValues)
}

// admit reserves room for a write of data bytes to packs and index bytes
// (one copy) to Badger, or says why there is none; the caller calls done
// once the bytes are written, so that concurrent writers each count the
// others'. A write that grows the store must leave room for the spare as
// well, so that it can be made again, and the room to free space again
// afterwards; one that frees space (a delete, GC) needs only Badger's
// headroom, and takes the spare's space if it must.
func (sp *space) admit(data, index int64, grow bool) (done func(), err error) {
	if sp == nil {
		return func() {}, nil
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.readOnly != nil {
		return nil, sp.readOnly
	}
	if time.Since(sp.scanned) > rescanEvery || sp.sinceScan > rescanBytes {
		if err := sp.scan(); err != nil {
			return nil, err
		}
	}
	free, err := freeBytes(sp.dir)
	if err != nil {
		return nil, err
	}
	// The copy of what was admitted since the scan that is in the log
	// already takes space that free no longer counts.
	need := data + indexCopies*index + sp.headroom + (indexCopies-1)*sp.sinceScan + sp.inflight
	if grow {
		need += slack
		if sp.spareGone {
			need += sp.spareLen
		}
	}
	if free < need && !grow && !sp.spareGone {
		if free, err = sp.releaseSpare(); err != nil {
			return nil, err
		}
	}
	if free < need {
		return nil, sp.full(free, need, "")
	}
	sp.sinceScan += index
	sp.inflight += data + index
	return func() {
		sp.mu.Lock()
		sp.inflight -= data + index
		sp.mu.Unlock()
	}, nil
}

// writable fails if no write may be admitted now.
func (sp *space) writable() error {
	done, err := sp.admit(0, 0, false)
	if err == nil {
		done()
	}
	return err
}

// rescan makes the next admit measure Badger's files again: they shrank.
func (sp *space) rescan() {
	if sp == nil {
		return
	}
	sp.mu.Lock()
	sp.scanned = time.Time{}
	sp.mu.Unlock()
}

// scan measures Badger's files again. Called with mu held.
func (sp *space) scan() error {
	need, _, err := badgerHeadroom(sp.index)
	if err != nil {
		return fmt.Errorf("free space: %w", err)
	}
	sp.headroom, sp.scanned, sp.sinceScan = need, time.Now(), 0
	return nil
}

func (sp *space) full(free, need int64, what string) error {
	return fmt.Errorf("%w: %s free on %s, needs %s%s", ErrDiskFull,
		sizeOf(free, false), sp.dir, sizeOf(need, true), what)
}

// beforeOpen makes room for Badger to open: it deletes the spare if Badger
// would not fit without it. It returns nil when the store may open for
// writing, a disk-full error (to be returned by writes) when it may open
// only read-only, and fails with ErrDiskFull when it may not open at all:
// logs left by a crash need room to be replayed.
func (sp *space) beforeOpen() (readOnly error, err error) {
	need, logs, err := badgerHeadroom(sp.index)
	if err != nil {
		return nil, err
	}
	free, err := freeBytes(sp.dir)
	if err != nil {
		return nil, err
	}
	_, serr := os.Stat(sp.spare)
	sp.spareGone = serr != nil
	if free < need && !sp.spareGone {
		if free, err = sp.releaseSpare(); err != nil {
			return nil, err
		}
	}
	switch {
	case free >= need:
		return nil, nil
	case logs:
		return nil, sp.full(free, need, " to open the store")
	default:
		sp.readOnly = sp.full(free, need, " to write (opened read-only)")
		return sp.readOnly, nil
	}
}

// releaseSpare deletes the spare file and returns the free space then.
// Called with mu held, or before the store is shared.
func (sp *space) releaseSpare() (free int64, err error) {
	if err := os.Remove(sp.spare); err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("release spare space: %w", err)
	}
	sp.spareGone = true
	return freeBytes(sp.dir)
}

// keepSpare makes the spare file again when there is room for it beside
// Badger's headroom. A failure leaves the store as it is, without one.
func (sp *space) keepSpare() {
	if sp == nil || sp.readOnly != nil {
		return
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if !sp.spareGone {
		return
	}
	need, _, err := badgerHeadroom(sp.index)
	if err != nil {
		return
	}
	if free, err := freeBytes(sp.dir); err != nil || free < need+sp.spareLen {
		return
	}
	f, err := os.OpenFile(sp.spare+".tmp", os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return
	}
	err = preallocate(f, sp.spareLen)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), sp.spare)
	}
	if err != nil {
		os.Remove(f.Name())
		return
	}
	sp.spareGone = false
}

// noSpace turns an error that says the disk is full into ErrDiskFull.
func (sp *space) noSpace(err error) error {
	if sp == nil || err == nil || errors.Is(err, ErrDiskFull) {
		return err
	}
	if isDiskFull(err) {
		free, _ := freeBytes(sp.dir)
		return fmt.Errorf("%w: %s free on %s (%v)", ErrDiskFull, sizeOf(free, false), sp.dir, err)
	}
	return err
}

// isDiskFull reports whether err says the disk, or the user's quota on
// it, is full. Badger flattens the errors it wraps into text, so the
// text is checked too.
func isDiskFull(err error) bool {
	for _, e := range diskFullErrs {
		if errors.Is(err, e) || strings.Contains(err.Error(), e.Error()) {
			return true
		}
	}
	return false
}

// sizeOf writes n bytes for people, to a tenth of a unit, rounded down
// or up: free space is rounded down and what is needed up, so that a disk
// short of a few kilobytes never reads "12.0 MiB free, needs 12.0 MiB".
func sizeOf(n int64, up bool) string {
	if n < 1<<10 {
		return fmt.Sprintf("%d B", max(n, 0))
	}
	div, unit := int64(1<<10), 0
	for m := n >> 10; m >= 1<<10 && unit < 5; m >>= 10 {
		div <<= 10
		unit++
	}
	tenths := float64(n) * 10 / float64(div)
	if up {
		tenths = math.Ceil(tenths)
	} else {
		tenths = math.Floor(tenths)
	}
	return fmt.Sprintf("%.1f %ciB", tenths/10, "KMGTPE"[unit])
}

// writeZeros fills f with n zero bytes.
func writeZeros(f *os.File, n int64) error {
	buf := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, int64(len(buf)))
		if _, err := f.Write(buf[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}
