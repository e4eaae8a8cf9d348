package main_test

import (
	"bytes"
	"fmt"
	"os"
	"testing"
)

// TestHeapOnHugePages checks that a running pollen's Go heap is marked for
// transparent huge pages, and that POLLEN_HUGEPAGES=0 leaves it alone.
func TestHeapOnHugePages(t *testing.T) {
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || bytes.Contains(mode, []byte("[never]")) {
		t.Skip("this kernel offers no transparent huge pages")
	}
	s := startServer(t, t.TempDir(), "seed")
	if n := hugeMapped(t, s.cmd.Process.Pid); n < 64<<20 {
		t.Errorf("%d bytes of pollen's memory are marked for huge pages, want the heap's 160 MiB or more", n)
	}
	t.Setenv("POLLEN_HUGEPAGES", "0")
	s = startServer(t, t.TempDir(), "seed")
	if n := hugeMapped(t, s.cmd.Process.Pid); n != 0 {
		t.Errorf("with POLLEN_HUGEPAGES=0, %d bytes are marked for huge pages, want none", n)
	}
}

// hugeMapped sums the sizes of pid's mappings with the huge page advice
// ("hg" in smaps' VmFlags).
func hugeMapped(t *testing.T, pid int) uint64 {
	t.Helper()
	smaps, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		t.Fatal(err)
	}
	var total, start, end uint64
	for line := range bytes.Lines(smaps) {
		if _, err := fmt.Sscanf(string(line), "%x-%x ", &start, &end); err == nil {
			continue
		}
		if f := bytes.Fields(line); len(f) > 0 && string(f[0]) == "VmFlags:" {
			for _, flag := range f[1:] {
				if string(flag) == "hg" {
					total += end - start
				}
			}
		}
	}
	return total
}
