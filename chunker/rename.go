package chunker

import (
	"errors"
	"io/fs"
	"os"
)

// renameChecked renames from to to unless to exists (fs.ErrExist), where
// the system has no rename that refuses to replace: a look, then the
// rename.
func renameChecked(from, to string) error {
	if _, err := os.Lstat(to); err == nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: fs.ErrExist}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.Rename(from, to)
}
