package main_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
)

// needNetns skips the test when namespaces cannot be made here (not
// root, no iproute2), unless POLLEN_REQUIRE_NETNS is set (CI), where it
// fails instead.
func needNetns(t *testing.T) {
	t.Helper()
	why := ""
	if os.Geteuid() != 0 {
		why = "not root"
	} else if _, err := exec.LookPath("ip"); err != nil {
		why = "no ip (Debian: iproute2)"
	}
	if why != "" {
		noNetns(t, why)
	}
}

// noNetns skips the test, or fails it in CI, for why.
func noNetns(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("POLLEN_REQUIRE_NETNS") != "" {
		t.Fatalf("network namespaces: %s", why)
	}
	t.Skipf("needs network namespaces: %s", why)
}

// netnsSeq numbers the namespaces this test binary makes.
var netnsSeq atomic.Int32

// shapedNS makes a network namespace joined to this one by a veth pair
// whose both ends are shaped to mbit, and removes it when the test ends.
// It returns the namespace's name and its address (the host end is
// .1). It needs root and iproute2: without them the test is skipped,
// unless POLLEN_REQUIRE_NETNS is set (CI), where it fails.
func shapedNS(t *testing.T, mbit int) (name, addr string) {
	t.Helper()
	needNetns(t)
	n := int(netnsSeq.Add(1))
	name = fmt.Sprintf("pollen-t%d-%d", os.Getpid()%100000, n)
	host := fmt.Sprintf("plnh%d-%d", os.Getpid()%10000, n)
	peerEnd := fmt.Sprintf("plnn%d-%d", os.Getpid()%10000, n)
	// 10.231.N.0/30 exists only between this namespace and ours.
	hostAddr, nsAddr := fmt.Sprintf("10.231.%d.1", n), fmt.Sprintf("10.231.%d.2", n)
	shape := fmt.Sprintf("tbf rate %dmbit burst 64kb latency 200ms", mbit)
	steps := [][]string{
		{"netns", "add", name},
		{"link", "add", host, "type", "veth", "peer", "name", peerEnd},
		{"link", "set", peerEnd, "netns", name},
		{"addr", "add", hostAddr + "/30", "dev", host},
		{"link", "set", host, "up"},
		{"-n", name, "addr", "add", nsAddr + "/30", "dev", peerEnd},
		{"-n", name, "link", "set", peerEnd, "up"},
		{"-n", name, "link", "set", "lo", "up"},
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "pids", name).Output(); err == nil {
			for _, pid := range strings.Fields(string(out)) {
				exec.Command("kill", "-9", pid).Run()
			}
		}
		exec.Command("ip", "netns", "del", name).Run() // takes the veth pair with it
		exec.Command("ip", "link", "del", host).Run()
	})
	for _, s := range steps {
		if out, err := exec.Command("ip", s...).CombinedOutput(); err != nil {
			noNetns(t, fmt.Sprintf("ip %s: %v: %s", strings.Join(s, " "), err, out))
		}
	}
	for _, tc := range [][]string{
		append([]string{"qdisc", "add", "dev", host, "root"}, strings.Fields(shape)...),
		append([]string{"-n", name, "qdisc", "add", "dev", peerEnd, "root"}, strings.Fields(shape)...),
	} {
		if out, err := exec.Command("tc", tc...).CombinedOutput(); err != nil {
			noNetns(t, fmt.Sprintf("tc %s: %v: %s", strings.Join(tc, " "), err, out))
		}
	}
	return name, nsAddr
}
