package delayline

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Namespaces are named lfn-PID-SEQ-a and -b: the PID of the process that
// made them tells a leftover from a killed run.
var linkName = regexp.MustCompile(`^lfn-([0-9]+)-[0-9]+-[ab]$`)

var (
	sweepOnce sync.Once
	sweepErr  error
)

// removeStale removes the namespaces of links whose process is gone, or
// is this one: a dead run's PID given again, since this process opens no
// link before the sweep.
func removeStale() error {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return fmt.Errorf("ip netns list: %w", err)
	}
	var errs []error
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line) // "NAME" or "NAME (id: N)"
		if len(f) == 0 {
			continue
		}
		m := linkName.FindStringSubmatch(f[0])
		if m == nil {
			continue
		}
		if pid, err := strconv.Atoi(m[1]); err != nil || (pid != os.Getpid() && alive(pid)) {
			continue
		}
		if err := removeNetns(f[0]); err != nil && exists(f[0]) {
			errs = append(errs, err) // not another process's sweep that won
		}
	}
	return errors.Join(errs...)
}

// removeNetns kills what runs in namespace name, then deletes it: a
// process inside would keep the namespace alive after its name is gone.
func removeNetns(name string) error {
	if out, err := exec.Command("ip", "netns", "pids", name).Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	return ip("netns", "del", name)
}

// exists reports whether namespace name is there; ip keeps named
// namespaces in /run/netns.
func exists(name string) bool {
	_, err := os.Stat("/run/netns/" + name)
	return err == nil
}

// alive reports whether a process with this PID runs; a zombie does not.
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')') // the state follows the command name
	return i >= 0 && i+2 < len(stat) && stat[i+2] != 'Z' && stat[i+2] != 'X'
}
