package netlab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

// A lab's namespaces are named netlab-PID-SEQ (the internet) and
// netlab-PID-SEQ-NODE: the PID of the process that made them tells a
// leftover from a killed run, and SEQ keeps labs of one process apart.
// Other users of namespaces on this machine (bench/swarm.sh's plPID-*,
// cmd/pollen's pollen-t*) never match.
var labName = regexp.MustCompile(`^netlab-([0-9]+)-[0-9]+(-|$)`)

// labSeq numbers the labs this process makes.
var labSeq atomic.Int64

// newLabName returns a name no other lab, in this process or another
// running one, has.
func newLabName() string {
	return fmt.Sprintf("netlab-%d-%d", os.Getpid(), labSeq.Add(1))
}

// listNetns returns the names of the machine's named network namespaces.
func listNetns() ([]string, error) {
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

// removeNetns kills what runs in namespace name, then deletes it. The kill
// comes first because a process inside keeps the namespace, and the links
// in it, alive after its name is gone.
func removeNetns(name string) error {
	if out, err := exec.Command("ip", "netns", "pids", name).Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
		return fmt.Errorf("ip netns del %s: %v: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// removeStale removes the namespaces of labs whose process is gone (a test
// binary killed by a timeout or a signal never runs its cleanup) or is
// self, which can only be a dead run's PID given again to this process,
// as long as this process has made no lab yet.
func removeStale(self int) error {
	names, err := listNetns()
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range names {
		m := labName.FindStringSubmatch(name)
		if m == nil {
			continue
		}
		pid, err := strconv.Atoi(m[1])
		if err != nil || (pid != self && alive(pid)) {
			continue
		}
		if err := removeNetns(name); err != nil && exists(name) {
			errs = append(errs, err) // not another process's sweep that won
		}
	}
	return errors.Join(errs...)
}

// exists reports whether namespace name is still there; ip keeps named
// namespaces in /run/netns.
func exists(name string) bool {
	_, err := os.Stat("/run/netns/" + name)
	return err == nil
}

// alive reports whether a process with this PID runs. A zombie does not:
// a killed test binary stays one until its parent reaps it.
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which ends at the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] != 'Z' && stat[i+2] != 'X'
}
