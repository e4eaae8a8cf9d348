// Package delayline makes a long fat link between two network namespaces
// on a kernel without netem (tc's delay): a TUN device in each namespace,
// and a forwarder in this process that passes every IP packet from one to
// the other after a fixed one-way delay, at a fixed rate, through a
// drop-tail queue. The kernels' TCP, or QUIC over UDP, runs end to end
// across it as across a real path: nothing terminates or splits the
// connection, as a proxy would. It needs root and ip (Debian: iproute2).
//
//	namespace A                this process                namespace B
//	10.78.0.1 ─ lfn0 ═ fd ─▶ queue ─ rate ─ delay ─▶ fd ═ lfn0 ─ 10.78.0.2
//	              ◀──────────  the same the other way  ──────────
//
// The link lives as long as the process that opened it: a process inside
// a namespace keeps the namespace, but packets cross only while the
// forwarder runs. Namespaces of an opener that died are removed by the
// next Open.
package delayline

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Addresses of the two ends. Each pair of namespaces is a network of its
// own, so every link uses the same two.
var (
	AddrA = netip.MustParseAddr("10.78.0.1")
	AddrB = netip.MustParseAddr("10.78.0.2")
)

// Config describes a link; the same each way.
type Config struct {
	// Rate is the link's rate in bits a second, counting whole IP packets.
	Rate int64
	// RTT is the round trip the link adds: half of it each way.
	RTT time.Duration
	// Queue is the bytes the queue in front of the rate holds before it
	// drops packets; 0 means one bandwidth-delay product (Rate × RTT), the
	// classic size of a router's buffer.
	Queue int
}

// ErrUnavailable is wrapped by Open when this machine or process cannot
// make a link: not Linux, not root, no ip, no TUN devices.
var ErrUnavailable = errors.New("delayline needs Linux, root, ip (Debian: iproute2) and /dev/net/tun")

// A Link is an open delay line between namespaces A and B.
type Link struct {
	A, B string // namespace names, for ip netns exec

	cfg    Config
	ab, ba *pipe
	tuns   []*os.File
	wg     sync.WaitGroup
	once   sync.Once
	closed error
}

// Stats counts what crossed the link one way.
type Stats struct {
	Packets, Bytes int64 // forwarded
	Dropped        int64 // packets the full queue dropped
}

// linkSeq numbers the links this process opens.
var linkSeq atomic.Int64

// Open makes namespaces A and B, joins them by a delay line with cfg, and
// starts forwarding. Close removes everything.
func Open(cfg Config) (*Link, error) {
	if cfg.Rate <= 0 || cfg.RTT < 0 {
		return nil, fmt.Errorf("delayline: rate %d bit/s, RTT %v", cfg.Rate, cfg.RTT)
	}
	if cfg.Queue == 0 {
		cfg.Queue = int(float64(cfg.Rate) / 8 * cfg.RTT.Seconds())
	}
	cfg.Queue = max(cfg.Queue, 2*mtu) // a packet or two always fits
	if runtime.GOOS != "linux" {
		return nil, fmt.Errorf("%w: not Linux", ErrUnavailable)
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("%w: not root", ErrUnavailable)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, fmt.Errorf("%w: no ip", ErrUnavailable)
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	sweepOnce.Do(func() { sweepErr = removeStale() })
	if sweepErr != nil {
		return nil, fmt.Errorf("delayline: removing leftovers of earlier runs: %w", sweepErr)
	}
	prefix := fmt.Sprintf("lfn-%d-%d", os.Getpid(), linkSeq.Add(1))
	l := &Link{A: prefix + "-a", B: prefix + "-b", cfg: cfg}
	if err := l.setUp(); err != nil {
		l.remove()
		return nil, fmt.Errorf("delayline: %w", err)
	}
	oneWay := cfg.RTT / 2
	l.ab = newPipe(l.tuns[0], l.tuns[1], cfg.Rate, oneWay, cfg.Queue)
	l.ba = newPipe(l.tuns[1], l.tuns[0], cfg.Rate, oneWay, cfg.Queue)
	for _, p := range []*pipe{l.ab, l.ba} {
		l.wg.Add(2)
		go func() { defer l.wg.Done(); p.read() }()
		go func() { defer l.wg.Done(); p.write() }()
	}
	return l, nil
}

// setUp makes the namespaces and their TUN devices.
func (l *Link) setUp() error {
	for _, end := range []struct {
		ns         string
		self, peer netip.Addr
	}{{l.A, AddrA, AddrB}, {l.B, AddrB, AddrA}} {
		if err := ip("netns", "add", end.ns); err != nil {
			return err
		}
		tun, err := openTUN(end.ns, tunName)
		if err != nil {
			return err
		}
		l.tuns = append(l.tuns, tun)
		for _, args := range [][]string{
			{"-n", end.ns, "link", "set", "lo", "up"},
			{"-n", end.ns, "link", "set", tunName, "mtu", fmt.Sprint(mtu), "up"},
			{"-n", end.ns, "addr", "add", end.self.String(), "peer", end.peer.String(), "dev", tunName},
		} {
			if err := ip(args...); err != nil {
				return err
			}
		}
	}
	return nil
}

// tunName is the TUN device in each namespace.
const tunName = "lfn0"

// Config returns the link's configuration, with the queue's size filled
// in.
func (l *Link) Config() Config { return l.cfg }

// Stats returns what crossed from A to B and from B to A so far.
func (l *Link) Stats() (ab, ba Stats) { return l.ab.stats(), l.ba.stats() }

// Close stops the forwarder, kills what still runs in the namespaces and
// removes them.
func (l *Link) Close() error {
	l.once.Do(func() {
		for _, p := range []*pipe{l.ab, l.ba} {
			p.close()
		}
		l.wg.Wait()
		l.closed = l.remove()
	})
	return l.closed
}

// remove closes the TUN devices and deletes the namespaces made so far.
func (l *Link) remove() error {
	for _, f := range l.tuns {
		f.Close()
	}
	var errs []error
	for _, ns := range []string{l.B, l.A} {
		if exists(ns) {
			errs = append(errs, removeNetns(ns))
		}
	}
	return errors.Join(errs...)
}

// ip runs ip with args.
func ip(args ...string) error {
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
