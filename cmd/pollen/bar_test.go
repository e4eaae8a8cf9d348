package main_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestBarInTerminal runs a get under a pseudo-terminal, from a seeder
// behind a shaped link: the bar appears once the total is known, passes
// through percentages between 0 and 100 with bytes, rate and time left,
// and ends at 100%.
func TestBarInTerminal(t *testing.T) {
	ns, addr := shapedNS(t, 80) // 48 MiB in about 5 s
	src := bigFile(t, 48)
	args := []string{"netns", "exec", ns, pollenBin(t), "--repo", t.TempDir(), "share", src,
		"--listen", "/ip4/" + addr + "/tcp/0", "--offline", "--no-mdns"}
	s := startServerCmd(t, exec.Command("ip", args...))
	out := t.TempDir()
	cmd := exec.Command(pollenBin(t), append([]string{"--repo", t.TempDir(), "get", s.ticket, "-o", out, "--timeout", "30s"}, isolated[2:]...)...)
	cmd.Env = append(os.Environ(), "POLLEN_REPO=", "TERM=xterm")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	var screen bytes.Buffer
	copied := make(chan struct{})
	go func() {
		io.Copy(&screen, tty) // ends with EIO when the get exits
		close(copied)
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("get under a terminal: %v\n%q", err, screen.String())
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("get did not finish:\n%q", screen.String())
	}
	tty.Close()
	<-copied
	sameFile(t, src, filepath.Join(out, filepath.Base(src)))

	text := screen.String()
	seen := map[int]bool{}
	for _, m := range regexp.MustCompile(`(\d+)% \|`).FindAllStringSubmatch(text, -1) {
		n, _ := strconv.Atoi(m[1])
		seen[n] = true
	}
	between := 0
	for n := range seen {
		if n > 0 && n < 100 {
			between++
		}
	}
	if between < 3 || !seen[100] {
		t.Errorf("the bar went through %d percentages between 0 and 100 (want 3 or more) and 100%%: %v\n%q", between, seen, text)
	}
	if !regexp.MustCompile(`get: [0-9.]+ MiB of 48 MiB, [0-9.]+ [KM]iB/s, [0-9]+s left, from 1 peer`).MatchString(text) {
		t.Errorf("no frame with bytes, rate and time left:\n%q", text)
	}
	if strings.Contains(text, "0 B of 0 B") {
		t.Errorf("the bar was drawn before the total was known:\n%q", text)
	}
}
