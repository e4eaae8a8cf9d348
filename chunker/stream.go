package chunker

import "os"

// Streaming writes. An exported file fills from start to end, give or
// take the blocks in flight, so what lies below its written frontier is
// pushed to disk as it grows and each stretch is dropped from the page
// cache a few stretches after it reached the disk: a long write reuses
// the same few megabytes of page cache instead of taking fresh pages all
// the way (on this VM fresh pages come back from the host, slowly). What
// reached the disk is made durable as the file grows too, a background
// flush every streamFlushEvery bytes, so the get's last flush is short.
// Figures: docs/performance.md.
const (
	streamStretch    = 16 << 20  // bytes handed to writeback at a time
	streamKeep       = 3         // stretches kept in the cache behind the one written
	streamFlushEvery = 128 << 20 // bytes written between background flushes
)

// stream follows the writes into one file, which may come in any order.
// The advice is best effort: where the file system ignores it, the file
// is written through the page cache as usual.
type stream struct {
	f        *os.File
	frontier int64           // every byte below it is written
	ahead    map[int64]int64 // writes past the frontier: offset → end
	kicked   int64           // bytes handed to writeback, whole stretches

	flushedAt int64         // frontier when the last background flush started
	flushing  chan struct{} // closed when the background flush ends; nil if none ran
}

// wrote notes that [off, end) of the file was written.
func (s *stream) wrote(off, end int64) {
	if off > s.frontier {
		if s.ahead == nil {
			s.ahead = map[int64]int64{}
		}
		s.ahead[off] = max(s.ahead[off], end)
		return
	}
	s.frontier = max(s.frontier, end)
	for {
		e, ok := s.ahead[s.frontier]
		if !ok {
			break
		}
		delete(s.ahead, s.frontier)
		s.frontier = max(s.frontier, e)
	}
	for s.frontier-s.kicked >= streamStretch {
		startWriteback(s.f, s.kicked, streamStretch)
		s.kicked += streamStretch
		// The stretch streamKeep behind the one just handed over is dropped.
		if old := s.kicked - (streamKeep+1)*streamStretch; old >= 0 {
			dropWritten(s.f, old, streamStretch)
		}
	}
	if s.frontier-s.flushedAt >= streamFlushEvery && s.idle() {
		s.flushedAt = s.frontier
		done := make(chan struct{})
		s.flushing = done
		go func() {
			defer close(done)
			_ = datasync(s.f) // best effort: the get's end is the commit point
		}()
	}
}

// idle reports whether no background flush is running.
func (s *stream) idle() bool {
	if s.flushing == nil {
		return true
	}
	select {
	case <-s.flushing:
		return true
	default:
		return false
	}
}

// wait waits for the background flush, if one runs; call it before the
// file is closed.
func (s *stream) wait() {
	if s.flushing != nil {
		<-s.flushing
	}
}
