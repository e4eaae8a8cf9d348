package netlab

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// inNetns runs fn on a thread inside network namespace netns: sockets
// belong to the namespace of the thread that makes them, and stay there.
// The thread goes back to this process's namespace after: were it the
// process's main thread, the whole process would count as inside netns,
// and the lab's cleanup, which kills what runs in its namespaces, would
// kill it.
func inNetns(netns string, fn func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		home, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			done <- err
			return
		}
		defer home.Close()
		f, err := os.Open("/var/run/netns/" + netns)
		if err != nil {
			runtime.UnlockOSThread()
			done <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("setns %s: %w", netns, err)
			return
		}
		err = fn()
		if unix.Setns(int(home.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		} // else the thread stays locked, and ends with this goroutine
		done <- err
	}()
	return <-done
}
