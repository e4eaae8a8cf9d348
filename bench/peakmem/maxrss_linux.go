package main

import (
	"os"
	"syscall"
)

// maxRSS is the exited process's resident high-water mark, in KiB.
func maxRSS(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return int64(ru.Maxrss)
	}
	return 0
}
