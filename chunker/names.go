package chunker

import (
	"fmt"
	"strings"
)

// CheckName is the one place that decides whether a directory entry name
// from a DAG may become a file name on disk: it refuses names that are
// empty, "." or "..", or contain "/", "\" or NUL (absolute paths included),
// any of which could reach outside the target folder.
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
	default:
		return nil
	}
	return fmt.Errorf("%w %q: %s", ErrUnsafeName, name, why)
}
