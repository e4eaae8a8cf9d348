package ui_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pollen-p2p/pollen/ui"
)

func TestLinesWithoutTerminal(t *testing.T) {
	var out bytes.Buffer
	b := ui.NewBar(&out, "get", false)
	b.SetPeers(2)
	for done := int64(0); done <= 100<<20; done += 1 << 20 {
		b.Progress(done, 100<<20)
	}
	b.Done()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) < 2 || len(lines) > 6 {
		t.Fatalf("want a few lines, got %d:\n%s", len(lines), out.String())
	}
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "get: 100 MiB of 100 MiB (100%") || !strings.HasSuffix(last, "from 2 peers)") {
		t.Errorf("last line %q", last)
	}
}

func TestAbortPrintsNothingMore(t *testing.T) {
	var out bytes.Buffer
	b := ui.NewBar(&out, "add", false)
	b.Progress(10, 100)
	b.Abort()
	if strings.Contains(out.String(), "100%") {
		t.Errorf("an aborted add claimed completion:\n%s", out.String())
	}
}

func TestTerminalBarShowsTotalAndPeers(t *testing.T) {
	var out bytes.Buffer
	b := ui.NewBar(&out, "get", true)
	b.Moved(0, 50<<20)
	b.Progress(50<<20, 100<<20) // resumed: half already here
	b.SetPeers(1)
	b.Moved(50<<20, 50<<20)
	b.Progress(100<<20, 100<<20)
	b.Done()
	s := out.String()
	for _, want := range []string{"50 MiB of 100 MiB already here", "get: 100 MiB of 100 MiB", "from 1 peer", "100%"} {
		if !strings.Contains(s, want) {
			t.Errorf("terminal output lacks %q:\n%q", want, s)
		}
	}
}

// An add imports everything it counts: it never says it is resuming,
// whatever was done at its first count.
func TestAddNeverResumes(t *testing.T) {
	for _, terminal := range []bool{false, true} {
		var out bytes.Buffer
		b := ui.NewBar(&out, "add", terminal)
		for done := int64(1 << 20); done <= 5<<20; done += 1 << 20 {
			b.Progress(done, 5<<20)
		}
		b.Done()
		if strings.Contains(out.String(), "resuming") || strings.Count(out.String(), "100%") > 1+boolInt(terminal) {
			t.Errorf("terminal %v:\n%q", terminal, out.String())
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
