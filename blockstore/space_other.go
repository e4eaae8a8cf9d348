//go:build !linux

package blockstore

import "os"

// preallocate gives f n bytes of disk by writing them: the portable way.
func preallocate(f *os.File, n int64) error { return writeZeros(f, n) }
