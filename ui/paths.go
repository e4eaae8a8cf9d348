package ui

import (
	"os"
	"path/filepath"
	"strings"
)

// userPath reads a path a person typed or pasted into the page for the
// daemon's machine: spaces around it are dropped (a paste brings them),
// and "~" or "~/..." is the daemon user's home, as a shell would read it.
// "~user" is left as it is: the daemon serves one user.
func userPath(p string) string {
	p = strings.TrimSpace(p)
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
	}
	return p
}
