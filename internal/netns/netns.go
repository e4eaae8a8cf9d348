// Package netns holds what the network-namespace labs of the tests and
// benches (internal/netlab, internal/delayline) share: listing, removing
// and sweeping named namespaces with ip (Debian: iproute2).
package netns

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// List returns the names of the machine's named network namespaces.
func List() ([]string, error) {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return nil, fmt.Errorf("ip netns list: %w", err)
	}
	var names []string
	for line := range strings.Lines(string(out)) {
		// A line is "NAME" or "NAME (id: N)".
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names, nil
}

// Remove kills what runs in namespace name, then deletes it: a process
// inside keeps the namespace, and the links in it, alive after its name
// is gone.
func Remove(name string) error {
	if out, err := exec.Command("ip", "netns", "pids", name).Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil {
				kill(pid)
			}
		}
	}
	if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns del %s: %v: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Exists reports whether namespace name is there; ip keeps named
// namespaces in /run/netns.
func Exists(name string) bool {
	_, err := os.Stat("/run/netns/" + name)
	return err == nil
}

// Alive reports whether a process with this PID runs. A zombie does not:
// a killed test binary stays one until its parent reaps it.
func Alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which ends at the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] != 'Z' && stat[i+2] != 'X'
}

// Sweep removes the namespaces whose name matches made (its first group
// the PID of the process that made them) when that process is gone (a
// test binary killed by a timeout never runs its cleanup) or is self,
// which can only be a dead run's PID given again, as long as this
// process has made none yet.
func Sweep(made *regexp.Regexp, self int) error {
	names, err := List()
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range names {
		m := made.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || (pid != self && Alive(pid)) {
			continue
		}
		if err := Remove(name); err != nil && Exists(name) {
			errs = append(errs, err) // not another process's sweep that won
		}
	}
	return errors.Join(errs...)
}

// kill ends the process with this PID (SIGKILL on Unix), if it runs.
// Through os.Process rather than syscall.Kill, which Windows lacks, so
// that the package builds, and the tests that import it vet, everywhere.
func kill(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
		p.Release()
	}
}
