package delayline

import (
	"errors"
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// openTUN opens a TUN device called name in namespace ns: IP packets, no
// header of TUN's own, non-blocking so that reads go through Go's poller
// and a deadline stops them.
func openTUN(ns, name string) (f *os.File, err error) {
	err = InNetns(ns, func() error {
		fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
		if err != nil {
			return fmt.Errorf("open /dev/net/tun: %w", err)
		}
		ifr, err := unix.NewIfreq(name)
		if err == nil {
			ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
			err = unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr)
		}
		if err != nil {
			unix.Close(fd)
			return fmt.Errorf("TUN device %s in %s: %w", name, ns, err)
		}
		f = os.NewFile(uintptr(fd), "tun "+ns)
		return nil
	})
	return f, err
}

// InNetns runs fn on a thread that has entered namespace ns: the sockets
// and devices fn opens belong to ns, and stay there when the thread comes
// back. Should the thread fail to come back, it stays locked to its
// goroutine and the runtime retires it.
func InNetns(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		home, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- err
			return
		}
		defer home.Close()
		there, err := os.Open("/run/netns/" + ns)
		if err != nil {
			errc <- err
			return
		}
		defer there.Close()
		if err := unix.Setns(int(there.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("enter %s: %w", ns, err)
			return
		}
		err = fn()
		if berr := unix.Setns(int(home.Fd()), unix.CLONE_NEWNET); berr != nil {
			errc <- errors.Join(err, fmt.Errorf("leave %s: %w", ns, berr))
			return // still locked: the thread ends with this goroutine
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	return <-errc
}
