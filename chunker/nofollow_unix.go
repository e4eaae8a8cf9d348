//go:build unix

package chunker

import (
	"os"
	"syscall"
)

// openNoFollow opens the file at name unless its last element is a
// symlink (O_NOFOLLOW: the open fails with ELOOP). The folders above it
// are checked by makeDirs and planDir as they are planned and made.
func openNoFollow(name string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(name, flag|syscall.O_NOFOLLOW, perm)
}
