package netlab

import (
	"fmt"
	"os"
	"regexp"
	"sync/atomic"

	"github.com/pollen-p2p/pollen/internal/netns"
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

// The namespace chores are internal/netns's.
var (
	exists      = netns.Exists
	removeNetns = netns.Remove
)

// removeStale removes the namespaces of labs whose process is gone, or is
// self (see netns.Sweep).
func removeStale(self int) error { return netns.Sweep(labName, self) }
