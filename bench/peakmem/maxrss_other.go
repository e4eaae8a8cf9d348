//go:build !linux

package main

import "os"

// maxRSS is 0 where peakmem cannot read /proc either.
func maxRSS(*os.ProcessState) int64 { return 0 }
