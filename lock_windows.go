package pollen

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// lockOffset is where the locked byte lies, far past the PID at the
// start of the file: Windows' locks are mandatory, and a process that
// finds the repo in use must still read who holds it.
const lockOffset = 1 << 40

// tryLock takes an exclusive lock on one byte of f without waiting
// (errLocked if another process holds it). Windows drops it when the
// handle closes or the process dies, as it does a flock.
func tryLock(f *os.File) error {
	ol := windows.Overlapped{Offset: lockOffset & 0xffffffff, OffsetHigh: lockOffset >> 32}
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return errLocked
	}
	return err
}
