//go:build !linux

package netlab

import "errors"

// inNetns needs Linux's network namespaces; New skips a lab test before
// anything calls it elsewhere.
func inNetns(netns string, fn func() error) error {
	return errors.New("netlab: network namespaces are Linux's")
}
