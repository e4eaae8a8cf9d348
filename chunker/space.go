package chunker

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dustin/go-humanize"
)

// ErrNoSpace is wrapped when a DAG declares more bytes than the target's
// file system has free.
var ErrNoSpace = errors.New("not enough free space")

// spaceMargin is left free on the target: a get that fills a disk to the
// last byte leaves the user's other programs failing.
const spaceMargin = 16 << 20

// needSpace counts n more bytes to write and refuses once the bytes
// planned pass what the target's file system had free when planning
// began (less spaceMargin). A DAG states a file's size before any of
// its blocks are fetched, so a file that declares terabytes is refused
// before it is written. Called with mu held.
func (p *Placer) needSpace(n int64) error {
	p.need += n
	if !p.freeKnown {
		p.free, p.freeKnown = freeSpace(p.dir), true
	}
	if p.free < 0 || p.need <= p.free-spaceMargin {
		return nil
	}
	return fmt.Errorf("%w: the files need %s or more, and %s is free on %s (pollen leaves %s of it free)",
		ErrNoSpace, humanize.IBytes(uint64(p.need)), humanize.IBytes(uint64(max(p.free, 0))), p.dir, humanize.IBytes(spaceMargin))
}

// freeSpace is the bytes an unprivileged user can still write on the
// file system of dir (or of its nearest existing parent), -1 if unknown.
func freeSpace(dir string) int64 {
	n, err := statFree(nearestExisting(dir))
	if err != nil {
		return -1
	}
	return n
}

// nearestExisting is dir, or its nearest parent that exists: the file
// system a get into dir will write on.
func nearestExisting(dir string) string {
	for {
		if _, err := os.Lstat(dir); !errors.Is(err, fs.ErrNotExist) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return dir
		}
		dir = parent
	}
}

// diskFull says so when a write failed for want of space (another
// program may have filled the disk since the export was planned).
func diskFull(err error, dir string) error {
	if isDiskFull(err) {
		return fmt.Errorf("%w: the disk of %s is full (%v)", ErrNoSpace, dir, err)
	}
	return err
}
