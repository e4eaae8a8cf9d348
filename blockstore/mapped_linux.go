package blockstore

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

const canTrim = true

// mappedBytes is how much of the process's resident set is file pages
// (and shared memory): statm's third field, in pages.
func mappedBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return 0
	}
	n, _ := strconv.ParseInt(f[2], 10, 64)
	return n * int64(os.Getpagesize())
}

// dropMapped tells the kernel this process no longer needs the pages it
// maps of the tables in dir whose IDs are held. MADV_DONTNEED on a
// shared file mapping unmaps the pages and keeps them in the page cache
// (a dirty one stays dirty there): nothing is lost, a later read maps it
// again. It returns how many mappings it dropped.
func dropMapped(dir string, held map[uint64]bool) int {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 7f12a000-7f12b000 rw-s 00000000 fd:00 1234 /repo/blocks/index/000019.sst
		line := sc.Text()
		fields := strings.Fields(line)
		slash := strings.IndexByte(line, '/')
		if len(fields) < 6 || slash < 0 || fields[1][3] != 's' {
			continue // only shared mappings: a private one's pages would be lost
		}
		path := line[slash:]
		if filepath.Dir(path) != dir || filepath.Ext(path) != ".sst" {
			continue
		}
		id, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(path), ".sst"), 10, 64)
		if err != nil || !held[id] {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, uintptr(start), uintptr(end-start), unix.MADV_DONTNEED); e == 0 {
			n++
		}
	}
	return n
}
