//go:build !linux

package delayline

import (
	"errors"
	"os"
)

var errNotLinux = errors.New("network namespaces and TUN devices are Linux's")

func openTUN(ns, name string) (*os.File, error) { return nil, errNotLinux }

// InNetns runs fn in namespace ns; only on Linux.
func InNetns(ns string, fn func() error) error { return errNotLinux }
