package testdata

import (
	"os"
	"syscall"
	"testing"
)

// SmallDisk mounts a tmpfs of size (as mount(8) writes it: "96m") for
// the test and unmounts it at the end, failed or not; without root it
// skips the test. Registered after t.TempDir's cleanup, the unmount runs
// before it, and after the cleanups of what the test opens later.
func SmallDisk(t testing.TB, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs to fill needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs here: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
			syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	return dir
}
