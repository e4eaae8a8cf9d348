package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pollen-p2p/pollen/internal/netns"
)

// A LAN of network namespaces: one namespace holds a bridge, every host
// is a namespace of its own joined to it by a veth pair, with an address
// on 10.77.0.0/24 (no NAT, no link to the machine's network). Unlike
// internal/netlab's internet, it needs neither nft nor public-looking
// addresses: hosts on one LAN, as people sharing a folder in an office
// are. Each host's eth0 is its only link, so its counters are exactly
// what the host sent and received.

// lanHost is one host of a LAN.
type lanHost struct {
	name  string
	netns string
	addr  string // 10.77.0.N
}

// lanName tells a LAN's namespaces from anyone else's; its first group
// is the PID of the test binary that made it, for netns.Sweep.
var lanName = regexp.MustCompile(`^pollenlan-([0-9]+)-`)

var (
	lanSeq   atomic.Int32
	lanSweep sync.Once
)

// newLAN makes a LAN with a host for each name and removes it, killing
// what still runs inside, when the test ends (failed or not). It skips
// the test when not root or without ip, unless POLLEN_REQUIRE_NETNS is
// set (CI), where it fails instead.
func newLAN(t *testing.T, names ...string) []*lanHost {
	t.Helper()
	needNetns(t)
	lanSweep.Do(func() {
		if err := netns.Sweep(lanName, os.Getpid()); err != nil {
			t.Logf("removing LANs of dead runs: %v", err)
		}
	})
	prefix := fmt.Sprintf("pollenlan-%d-%d", os.Getpid(), lanSeq.Add(1))
	var made []string
	t.Cleanup(func() {
		for i := len(made) - 1; i >= 0; i-- {
			if err := netns.Remove(made[i]); err != nil {
				t.Errorf("lan: %v", err)
			}
		}
	})
	ip := func(arg ...string) {
		t.Helper()
		if out, err := exec.Command("ip", arg...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(arg, " "), err, out)
		}
	}
	addNetns := func(name string) {
		t.Helper()
		ip("netns", "add", name)
		made = append(made, name)
		ip("-n", name, "link", "set", "lo", "up")
	}
	br := prefix + "-br"
	addNetns(br)
	ip("-n", br, "link", "add", "br0", "type", "bridge")
	ip("-n", br, "link", "set", "br0", "up")
	var hosts []*lanHost
	for i, name := range names {
		h := &lanHost{name: name, netns: prefix + "-" + name, addr: fmt.Sprintf("10.77.0.%d", 10+i)}
		addNetns(h.netns)
		port := fmt.Sprintf("p%d", i)
		ip("-n", br, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", h.netns)
		ip("-n", br, "link", "set", port, "master", "br0", "up")
		ip("-n", h.netns, "addr", "add", h.addr+"/24", "dev", "eth0")
		ip("-n", h.netns, "link", "set", "eth0", "up")
		hosts = append(hosts, h)
	}
	return hosts
}

// Command returns a command that runs program name inside the host's
// namespace; the file system and environment are this process's.
func (h *lanHost) Command(ctx context.Context, name string, arg ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.netns, name}, arg...)...)
}

// counters returns the bytes the host's link has received and sent,
// headers and all: what the host cost the network.
func (h *lanHost) counters(t *testing.T) (rx, tx int64) {
	t.Helper()
	out, err := exec.Command("ip", "-n", h.netns, "-j", "-s", "link", "show", "dev", "eth0").Output()
	if err != nil {
		t.Fatalf("%s: ip -s link: %v", h.name, err)
	}
	var links []struct {
		Stats struct {
			RX struct{ Bytes int64 } `json:"rx"`
			TX struct{ Bytes int64 } `json:"tx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal(out, &links); err != nil || len(links) != 1 {
		t.Fatalf("%s: ip -s link said %s (%v)", h.name, out, err)
	}
	return links[0].Stats.RX.Bytes, links[0].Stats.TX.Bytes
}
