package chunker

import "golang.org/x/sys/unix"

// startWriteback hands n bytes of fd from off to the disk, not waiting.
func startWriteback(fd int, off, n int64) {
	_ = unix.SyncFileRange(fd, off, n, unix.SYNC_FILE_RANGE_WRITE)
}

// dropWritten waits for n bytes of fd from off to reach the disk and drops
// them from the page cache.
func dropWritten(fd int, off, n int64) {
	_ = unix.SyncFileRange(fd, off, n,
		unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
	_ = unix.Fadvise(fd, off, n, unix.FADV_DONTNEED)
}

// datasync flushes fd's data to the device.
func datasync(fd int) error { return unix.Fdatasync(fd) }
