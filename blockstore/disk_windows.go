package blockstore

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/windows"
)

// What the store asks of the file system: the free space, what a file
// occupies, and which errors say the disk is full.

// freeBytes is the space this user's writes may still take on path's
// volume: GetDiskFreeSpaceEx's bytes available to the caller, which a
// disk quota lowers below the volume's free bytes.
func freeBytes(path string) (int64, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return 0, fmt.Errorf("free space on %s: %w", path, err)
	}
	var avail, total, free uint64
	if err := windows.GetDiskFreeSpaceEx(p, &avail, &total, &free); err != nil {
		return 0, fmt.Errorf("free space on %s: %w", path, err)
	}
	return int64(min(avail, 1<<63-1)), nil
}

// allocated is what a file occupies on disk. Badger extends its files
// with SetEndOfFile and does not mark them sparse, and NTFS allocates
// the clusters of a file that is not sparse when it is extended, so the
// size is what it occupies.
func allocated(info os.FileInfo) int64 { return info.Size() }

// diskFullErrs say the disk, or the user's quota on it, is full:
// Windows' own errors, not ENOSPC.
var diskFullErrs = []syscall.Errno{windows.ERROR_DISK_FULL, windows.ERROR_HANDLE_DISK_FULL, windows.ERROR_DISK_QUOTA_EXCEEDED}
