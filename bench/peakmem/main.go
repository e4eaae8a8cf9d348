// Command peakmem runs a command and prints, to stderr, its wall time and
// the peaks of its private (RssAnon) and file-backed (RssFile) resident
// memory, read from /proc every 50 ms. /usr/bin/time's maximum RSS adds
// the two, and a store that maps its index files (Badger does) counts
// page cache there that the kernel takes back when it needs it.
//
//	peakmem CMD [ARG...]   →   "peakmem: 12.34 s, private 180 MiB, mapped files 240 MiB, RSS 300 MiB"
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: peakmem CMD [ARG...]")
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "peakmem:", err)
		os.Exit(1)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var anon, file int64
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var err error
loop:
	for {
		a, f := rss(cmd.Process.Pid)
		anon, file = max(anon, a), max(file, f)
		select {
		case err = <-done:
			break loop
		case <-tick.C:
		}
	}
	// The kernel's own high-water mark of the resident set, private and
	// mapped at the same moment: the peaks above are sampled, and may
	// come at different moments.
	hwm := maxRSS(cmd.ProcessState)
	fmt.Fprintf(os.Stderr, "peakmem: %.2f s, private %d MiB, mapped files %d MiB, RSS %d MiB\n",
		time.Since(start).Seconds(), anon>>10, file>>10, hwm>>10)
	if err != nil {
		if x, ok := err.(*exec.ExitError); ok {
			os.Exit(x.ExitCode())
		}
		os.Exit(1)
	}
}

// rss reads RssAnon and RssFile, in KiB, of pid.
func rss(pid int) (anon, file int64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "RssAnon":
			anon = n
		case "RssFile":
			file = n
		}
	}
	return anon, file
}
