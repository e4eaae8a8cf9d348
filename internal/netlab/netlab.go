package netlab

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// internet is the lab's public address range. IANA's special-purpose
// registry marks 192.0.0.0/24 as never globally reachable, so a lab
// address is never a real one; yet go-multiaddr's list of unroutable
// ranges holds only 192.0.0.0/26 of it, so libp2p takes these addresses
// for public, as its AutoNAT, relays and hole punching need. The
// documentation ranges (198.51.100.0/24 and its kin) it ignores as
// unroutable: a lab on them could test none of that.
var internet = netip.MustParsePrefix("192.0.0.128/25")

// A Lab is one internet with the public nodes and homes a test put on it.
// Its methods end the test with t.Fatal when something fails, so call them
// from the test's own goroutine, one at a time.
type Lab struct {
	t          testing.TB
	name       string   // the internet's namespace, and every other's prefix
	namespaces []string // in the order made
	names      map[string]bool
	next       netip.Addr // the next public address to give out
	homes      int        // home N gets 192.168.N.0/24
}

// A Node is one machine of the lab: a network namespace with one address.
type Node struct {
	name  string
	netns string
	addr  netip.Addr
}

// A Home is a host on a private network behind a NAT router.
type Home struct {
	Host   *Node // at 192.168.N.2, its default route through Router
	Router *Node // 192.168.N.1 to Host; Router.Addr() is the home's public address
	NAT    NAT
}

// Name returns the name the node was made with; a home's router is
// called HOME-nat.
func (n *Node) Name() string { return n.name }

// Netns returns the name of the node's network namespace, for ip -n.
func (n *Node) Netns() string { return n.netns }

// Addr returns the node's own address: public for a public node or a
// router, private for a host in a home.
func (n *Node) Addr() netip.Addr { return n.addr }

// Command returns a command that runs program name in the node's
// namespace, seeing only the node's network; the file system, user and
// environment are this process's.
func (n *Node) Command(ctx context.Context, name string, arg ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.netns, name}, arg...)...)
}

// sweep removes what labs of dead runs left, once per process and before
// this process makes a lab of its own.
var sweep struct {
	sync.Once
	err error
}

// New makes an empty internet and removes it, with every node later put
// on it, when the test ends. It skips the test when it is not root or ip
// or nft is missing; with POLLEN_REQUIRE_NETNS set (CI), it fails instead.
func New(t testing.TB) *Lab {
	t.Helper()
	need := func(why string) {
		t.Helper()
		if os.Getenv("POLLEN_REQUIRE_NETNS") != "" {
			t.Fatalf("netlab: %s", why)
		}
		t.Skipf("netlab needs network namespaces and NAT: %s", why)
	}
	if os.Geteuid() != 0 {
		need("not root")
	}
	for _, tool := range []struct{ bin, pkg string }{{"ip", "iproute2"}, {"nft", "nftables"}} {
		if _, err := exec.LookPath(tool.bin); err != nil {
			need(fmt.Sprintf("no %s (Debian: %s)", tool.bin, tool.pkg))
		}
	}
	sweep.Do(func() { sweep.err = removeStale(os.Getpid()) })
	if sweep.err != nil {
		t.Fatalf("netlab: removing leftovers of earlier runs: %v", sweep.err)
	}
	l := &Lab{
		t:     t,
		name:  newLabName(),
		names: map[string]bool{},
		next:  internet.Addr().Next(),
	}
	t.Cleanup(l.remove)
	l.addNetns(l.name)
	l.ip("-n", l.name, "link", "add", "br0", "type", "bridge")
	l.ip("-n", l.name, "link", "set", "br0", "up")
	return l
}

// Public puts a node with a public address of its own on the internet.
func (l *Lab) Public(name string) *Node {
	l.t.Helper()
	l.checkName(name)
	n := l.node(name, l.publicAddr())
	l.plug(n, "eth0")
	return n
}

// Home puts a home on the internet: a NAT router, called name-nat, with a
// public address, and a host called name behind it on a private network
// of its own.
func (l *Lab) Home(name string, nat NAT) *Home {
	l.t.Helper()
	l.checkName(name)
	rules := nat.ruleset()
	if rules == "" {
		l.t.Fatalf("netlab: home %s: unknown %v", name, nat)
	}
	if l.homes == 254 {
		l.t.Fatalf("netlab: home %s: no private network left", name)
	}
	l.homes++
	lan := netip.AddrFrom4([4]byte{192, 168, byte(l.homes), 0})
	h := &Home{
		Router: l.node(name+"-nat", l.publicAddr()),
		Host:   l.node(name, lan.Next().Next()),
		NAT:    nat,
	}
	r, host := h.Router.netns, h.Host.netns
	l.plug(h.Router, "wan")
	l.ip("-n", r, "link", "add", "lan", "type", "veth", "peer", "name", "eth0", "netns", host)
	l.ip("-n", r, "addr", "add", lan.Next().String()+"/24", "dev", "lan")
	l.ip("-n", r, "link", "set", "lan", "up")
	l.ip("-n", host, "addr", "add", h.Host.addr.String()+"/24", "dev", "eth0")
	l.ip("-n", host, "link", "set", "eth0", "up")
	l.ip("-n", host, "route", "add", "default", "via", lan.Next().String())
	// The firewall goes in before forwarding is on, so nothing ever
	// crosses the router unfiltered.
	l.run(rules, "ip", "netns", "exec", r, "nft", "-f", "-")
	l.run("", "ip", "netns", "exec", r, "sh", "-c", "echo 1 >/proc/sys/net/ipv4/ip_forward")
	return h
}

// Namespaces returns the names of every namespace the lab has made.
func (l *Lab) Namespaces() []string {
	return append([]string(nil), l.namespaces...)
}

// nodeName keeps names short and free of "-", so that NAME-nat and
// netlab-PID-SEQ-NAME cannot be read two ways.
var nodeName = regexp.MustCompile(`^[a-z][a-z0-9]{0,15}$`)

func (l *Lab) checkName(name string) {
	l.t.Helper()
	if !nodeName.MatchString(name) {
		l.t.Fatalf("netlab: node name %q: want a lowercase letter, then up to 15 lowercase letters or digits", name)
	}
	if l.names[name] {
		l.t.Fatalf("netlab: two nodes called %q", name)
	}
	l.names[name] = true
}

// node makes the namespace of a node called name with address addr.
func (l *Lab) node(name string, addr netip.Addr) *Node {
	l.t.Helper()
	n := &Node{name: name, netns: l.name + "-" + name, addr: addr}
	l.addNetns(n.netns)
	l.ip("-n", n.netns, "link", "set", "lo", "up")
	return n
}

// plug joins node n to the internet's bridge by a veth whose end in n is
// called dev and holds n's address.
func (l *Lab) plug(n *Node, dev string) {
	l.t.Helper()
	port := fmt.Sprintf("p%d", len(l.namespaces)) // unique on the bridge
	l.ip("-n", l.name, "link", "add", port, "type", "veth", "peer", "name", dev, "netns", n.netns)
	l.ip("-n", l.name, "link", "set", port, "master", "br0", "up")
	l.ip("-n", n.netns, "addr", "add", netip.PrefixFrom(n.addr, internet.Bits()).String(), "dev", dev)
	l.ip("-n", n.netns, "link", "set", dev, "up")
}

// publicAddr gives out the next address of the internet.
func (l *Lab) publicAddr() netip.Addr {
	l.t.Helper()
	a := l.next
	if !internet.Contains(a.Next()) { // the last one is the broadcast address
		l.t.Fatalf("netlab: no public address left in %v", internet)
	}
	l.next = a.Next()
	return a
}

func (l *Lab) addNetns(name string) {
	l.t.Helper()
	l.ip("netns", "add", name)
	l.namespaces = append(l.namespaces, name)
}

// remove deletes the lab's namespaces, last made first.
func (l *Lab) remove() {
	for i := len(l.namespaces) - 1; i >= 0; i-- {
		if err := removeNetns(l.namespaces[i]); err != nil {
			l.t.Errorf("netlab: %v", err)
		}
	}
	l.namespaces = nil
}

func (l *Lab) ip(arg ...string) {
	l.t.Helper()
	l.run("", "ip", arg...)
}

// run runs a setup command with stdin as its input, and ends the test if
// it fails.
func (l *Lab) run(stdin, name string, arg ...string) {
	l.t.Helper()
	cmd := exec.Command(name, arg...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		l.t.Fatalf("netlab: %s %s: %v: %s", name, strings.Join(arg, " "), err, strings.TrimSpace(string(out)))
	}
}
