//go:build unix

package pollen

import (
	"errors"
	"os"
	"syscall"
)

// tryLock takes an exclusive flock on f without waiting (errLocked if
// another process holds it). Advisory: the PID in the file stays
// readable.
func tryLock(f *os.File) error {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return errLocked
	}
	return err
}
