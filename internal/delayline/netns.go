package delayline

import (
	"os"
	"regexp"
	"sync"

	"github.com/pollen-p2p/pollen/internal/netns"
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
func removeStale() error { return netns.Sweep(linkName, os.Getpid()) }

// The namespace chores are internal/netns's.
var (
	exists      = netns.Exists
	removeNetns = netns.Remove
)
