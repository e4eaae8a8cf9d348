package chunker

import (
	"os"

	"golang.org/x/sys/unix"
)

// Streaming writes. A file written once from start to end (an exported
// file) is pushed to disk as it grows, and each stretch is dropped from
// the page cache a few stretches after it reached the disk, so a long
// write reuses the same few megabytes of page cache instead of taking
// fresh pages all the way. Measured here, writing 1 GiB in 1 MiB writes
// this way took 0.25 to 0.4 s, against 0.13 to 2.4 s through the page
// cache alone (most of it the kernel finding fresh pages, which on this VM
// come back from the host) and 0.7 to 1 s with O_DIRECT; a 1 GiB get
// went from 3.9-4.5 s to 3.2-3.4 s (alternated runs).
const (
	streamStretch = 16 << 20 // bytes handed to writeback at a time
	streamKeep    = 3        // stretches kept in the cache behind the one written
)

// streamFile writes sequentially to f, pushing and dropping what it wrote
// as above. The advice is best effort: where the file system ignores it,
// the file is written through the page cache as usual.
type streamFile struct {
	f      *os.File
	off    int64   // bytes written so far
	kicked int64   // bytes handed to writeback so far
	queued []int64 // starts of the stretches handed to writeback, not yet dropped
}

func (s *streamFile) Write(p []byte) (int, error) {
	n, err := s.f.Write(p)
	s.off += int64(n)
	for s.off-s.kicked >= streamStretch {
		fd := int(s.f.Fd())
		_ = unix.SyncFileRange(fd, s.kicked, streamStretch, unix.SYNC_FILE_RANGE_WRITE)
		s.queued = append(s.queued, s.kicked)
		s.kicked += streamStretch
		if len(s.queued) > streamKeep {
			old := s.queued[0]
			s.queued = s.queued[1:]
			_ = unix.SyncFileRange(fd, old, streamStretch,
				unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
			_ = unix.Fadvise(fd, old, streamStretch, unix.FADV_DONTNEED)
		}
	}
	return n, err
}
