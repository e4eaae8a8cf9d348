package blockstore

import (
	"os"
	"syscall"
)

// openDirect opens a pack for writing around the page cache (O_DIRECT), or
// returns nil where the file system refuses (tmpfs).
func openDirect(name string) *os.File {
	f, err := os.OpenFile(name, os.O_WRONLY|syscall.O_DIRECT, 0)
	if err != nil {
		return nil
	}
	return f
}
