//go:build unix

package blockstore

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// What the store asks of the file system: the free space, what a file
// occupies, and which errors say the disk is full.

// freeBytes is the space unprivileged writes may still take on path's
// file system: the conservative figure, as root may take more.
func freeBytes(path string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("free space on %s: %w", path, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// allocated is what a file occupies on disk, holes left out.
func allocated(info os.FileInfo) int64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return info.Size()
}

// diskFullErrs say the disk, or the user's quota on it, is full.
var diskFullErrs = []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT}
