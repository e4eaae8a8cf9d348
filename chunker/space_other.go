//go:build !unix && !windows

package chunker

import "os"

// statFree does not know: the export is bounded by its entry budget only.
func statFree(dir string) (int64, error) {
	if _, err := os.Stat(dir); err != nil {
		return 0, err
	}
	return -1, nil
}

// isDiskFull cannot tell: the write's own error is shown.
func isDiskFull(err error) bool { return false }
