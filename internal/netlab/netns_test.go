package netlab

import (
	"os/exec"
	"testing"
)

func TestLabName(t *testing.T) {
	for name, want := range map[string]bool{
		"netlab-123-1":           true,
		"netlab-123-1-relay":     true,
		"netlab-123-1-alice-nat": true,
		"netlab-123-1x":          false,
		"netlab-abc-1":           false,
		"pl14358-0":              false, // bench/swarm.sh
		"pl14358-br":             false,
		"pollen-t123-1":          false, // cmd/pollen's shaped links
	} {
		if got := labName.MatchString(name); got != want {
			t.Errorf("%q: lab namespace %v, want %v", name, got, want)
		}
	}
}

// TestRemoveStale checks that what a killed run left goes, and what a
// running lab holds stays.
func TestRemoveStale(t *testing.T) {
	lab := New(t)
	lab.Public("relay")
	// Past PID_MAX_LIMIT, the largest PID Linux gives: no process has it.
	stale := []string{"netlab-4194305-1", "netlab-4194305-1-relay"}
	for _, name := range stale {
		if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add %s: %v: %s", name, err, out)
		}
		t.Cleanup(func() {
			if exists(name) {
				removeNetns(name)
			}
		})
	}
	if err := removeStale(0); err != nil {
		t.Fatal(err)
	}
	for _, name := range stale {
		if exists(name) {
			t.Errorf("%s is still there", name)
		}
	}
	for _, name := range lab.Namespaces() {
		if !exists(name) {
			t.Errorf("%s, of a running lab, was removed", name)
		}
	}
}
