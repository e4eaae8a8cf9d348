package chunker

import (
	"fmt"
	"runtime"
	"strings"
)

// CheckName is the one place that decides whether a directory entry name
// from a DAG may become a file name on disk: it refuses names that are
// empty, "." or "..", or contain "/", "\" or NUL (absolute paths included),
// any of which could reach outside the target folder; then whatever the
// system's own rules refuse (nameRules: on Windows, [CheckWindowsName]).
func CheckName(name string) error {
	var why string
	switch {
	case name == "":
		why = "empty name"
	case name == "." || name == "..":
		why = "relative path element"
	case strings.HasPrefix(name, "/"):
		why = "absolute path"
	case strings.ContainsAny(name, `/\`):
		why = "contains a path separator"
	case strings.ContainsRune(name, 0):
		why = "contains NUL"
	case nameRules != nil:
		return nameRules(name)
	default:
		return nil
	}
	return fmt.Errorf("%w %q: %s", ErrUnsafeName, name, why)
}

// nameRules are the rules on names of the system this build writes on,
// beyond those that keep a name inside the target folder; nil where a
// file system stores any name CheckName lets through. A variable so that
// a test on Linux can run an export under Windows' rules down the very
// path the Windows build takes.
var nameRules = systemNameRules(runtime.GOOS)

// systemNameRules are the name rules of the system goos.
func systemNameRules(goos string) func(name string) error {
	if goos == "windows" {
		return CheckWindowsName
	}
	return nil
}
