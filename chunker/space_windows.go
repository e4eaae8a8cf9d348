package chunker

import (
	"errors"

	"golang.org/x/sys/windows"
)

// statFree asks for the bytes available to this user, which is less than
// the volume's free bytes when a disk quota applies.
func statFree(dir string) (int64, error) {
	p, err := windows.UTF16PtrFromString(dir)
	if err != nil {
		return 0, err
	}
	var avail, total, free uint64
	if err := windows.GetDiskFreeSpaceEx(p, &avail, &total, &free); err != nil {
		return 0, err
	}
	return int64(min(avail, 1<<63-1)), nil
}

// isDiskFull reports whether err says the disk, or the user's quota on
// it, is full. Windows' errors for it are its own, not ENOSPC.
func isDiskFull(err error) bool {
	return errors.Is(err, windows.ERROR_DISK_FULL) || errors.Is(err, windows.ERROR_HANDLE_DISK_FULL) ||
		errors.Is(err, windows.ERROR_DISK_QUOTA_EXCEEDED)
}
