package chunker

import (
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

// openNoFollow opens the file at name unless its last element is a
// reparse point: a symlink, a junction, or any other name a file system
// filter resolves to something else.
//
// Windows has no O_NOFOLLOW. FILE_FLAG_OPEN_REPARSE_POINT is the nearest
// thing: it opens the reparse point itself, never its target, so nothing
// is written through it; the handle is then asked what it opened, and a
// reparse point of any kind is refused, as O_NOFOLLOW's ELOOP refuses a
// symlink. Asking the handle, not the name, leaves no moment in which a
// link planted at name could be followed. Every kind is refused, not only
// links: opened this way a placeholder (OneDrive, deduplication) would
// give its stub, not the file's bytes. The folders above name are checked
// by makeDirs and planDir as they are planned and made, where os.Lstat
// reports a junction or a symlink to a folder as no folder.
func openNoFollow(name string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(name, flag|windows.O_FILE_FLAG_OPEN_REPARSE_POINT, perm)
	if err != nil {
		return nil, err
	}
	var info windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(windows.Handle(f.Fd()), &info); err != nil {
		f.Close()
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	if info.FileAttributes&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0 {
		f.Close()
		return nil, &os.PathError{Op: "open", Path: name,
			Err: fmt.Errorf("a link, junction or placeholder (reparse point): pollen never writes through one")}
	}
	return f, nil
}
