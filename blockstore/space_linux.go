package blockstore

import (
	"os"

	"golang.org/x/sys/unix"
)

// preallocate gives f n bytes of disk without writing them.
func preallocate(f *os.File, n int64) error {
	err := unix.Fallocate(int(f.Fd()), 0, 0, n)
	if err == unix.EOPNOTSUPP {
		return writeZeros(f, n)
	}
	return err
}
