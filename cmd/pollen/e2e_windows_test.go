package main_test

import "os"

// allocated is what a file takes on disk: NTFS allocates a file that is
// not sparse in full, so its size.
func allocated(fi os.FileInfo) int64 { return fi.Size() }
