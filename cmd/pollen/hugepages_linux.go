package main

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugeHeapBytes is how far the heap's mapping is grown before it is
// marked for huge pages: what a transfer's heap reaches under
// memoryLimit.
const hugeHeapBytes = 160 << 20

// hugeHeap asks Linux to back the Go heap with transparent huge pages
// (MADV_HUGEPAGE), as it does with THP set to "always"; most systems set
// "madvise", and Go does not ask for its heap. A transfer allocates a
// fresh 1 MiB buffer per block, and on a virtual machine each 4 KiB page
// the heap touches for the first time is a costly fault, and a huge page
// takes one fault for 512 of them (docs/performance.md). The heap's
// mapping is grown first, by an allocation that is never touched, so the
// advice covers what the heap will use. Best effort: any failure leaves
// the heap as it was. POLLEN_HUGEPAGES=0 turns it off; so does a 32-bit
// system, where the allocation would take much of the address space.
func hugeHeap() {
	if os.Getenv("POLLEN_HUGEPAGES") == "0" || strconv.IntSize < 64 {
		return
	}
	b := make([]byte, hugeHeapBytes)
	at := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	for line := range bytes.Lines(maps) {
		// start-end perms offset dev inode [path]
		f := bytes.Fields(line)
		if len(f) < 5 || !bytes.HasPrefix(f[1], []byte("rw")) || len(f) > 5 {
			continue
		}
		r := bytes.SplitN(f[0], []byte("-"), 2)
		start, err1 := strconv.ParseUint(string(r[0]), 16, 64)
		end, err2 := strconv.ParseUint(string(r[len(r)-1]), 16, 64)
		if err1 != nil || err2 != nil || uintptr(start) > at || at >= uintptr(end) {
			continue
		}
		unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_HUGEPAGE)
		break
	}
	runtime.KeepAlive(b)
}
