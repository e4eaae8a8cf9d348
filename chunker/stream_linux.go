package chunker

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback hands n bytes of f from off to the disk, not waiting.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}

// dropWritten waits for n bytes of f from off to reach the disk and drops
// them from the page cache.
func dropWritten(f *os.File, off, n int64) {
	fd := int(f.Fd())
	_ = unix.SyncFileRange(fd, off, n,
		unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
	_ = unix.Fadvise(fd, off, n, unix.FADV_DONTNEED)
}

// datasync flushes f's data to the device.
func datasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }
