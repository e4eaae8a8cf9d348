package netlab_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pollen-p2p/pollen/internal/netlab"
)

// The tests run this test binary again inside the lab's nodes, as a
// server or a probe, so they need no tool that CI does not install.
const helperEnv = "NETLAB_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		if err := helper(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func helper(args []string) error {
	if len(args) > 0 && args[0] == "serve" {
		return serve(args[1:])
	}
	if len(args) >= 3 && args[0] == "probe" {
		timeout, err := time.ParseDuration(args[2])
		if err != nil {
			return err
		}
		return probe(args[1], timeout, args[3:])
	}
	if len(args) == 4 && args[0] == "punch" {
		port, err := strconv.Atoi(args[1])
		if err != nil {
			return err
		}
		timeout, err := time.ParseDuration(args[2])
		if err != nil {
			return err
		}
		return punch(port, timeout, args[3])
	}
	return fmt.Errorf("helper: want serve PORT..., probe tcp|udp TIMEOUT HOST:PORT... or punch PORT TIMEOUT HOST:PORT, not %q", args)
}

// serve answers every TCP connection and UDP datagram on each port with
// the address it came from, until its standard input closes: the test's
// end, or the test binary's death, stops it.
func serve(ports []string) error {
	for _, p := range ports {
		ln, err := net.Listen("tcp4", ":"+p)
		if err != nil {
			return err
		}
		pc, err := net.ListenPacket("udp4", ":"+p)
		if err != nil {
			return err
		}
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				fmt.Fprintln(c, c.RemoteAddr())
				c.Close()
			}
		}()
		go func() {
			buf := make([]byte, 512)
			for {
				_, from, err := pc.ReadFrom(buf)
				if err != nil {
					return
				}
				pc.WriteTo([]byte(from.String()), from)
			}
		}()
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	return nil
}

// probe asks each target which address it sees this node at and prints
// "seen ADDR" for each. Over udp every target is asked from one socket,
// whose local port it prints first as "local PORT".
func probe(proto string, timeout time.Duration, targets []string) error {
	switch proto {
	case "tcp":
		for _, t := range targets {
			c, err := net.DialTimeout("tcp4", t, timeout)
			if err != nil {
				return err
			}
			c.SetDeadline(time.Now().Add(timeout))
			line, err := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", t, err)
			}
			fmt.Printf("seen %s", line)
		}
		return nil
	case "udp":
		pc, err := net.ListenUDP("udp4", nil)
		if err != nil {
			return err
		}
		defer pc.Close()
		fmt.Printf("local %d\n", pc.LocalAddr().(*net.UDPAddr).Port)
		for _, t := range targets {
			seen, err := askUDP(pc, t, timeout)
			if err != nil {
				return fmt.Errorf("%s: %w", t, err)
			}
			fmt.Printf("seen %s\n", seen)
		}
		return nil
	}
	return fmt.Errorf("probe: unknown protocol %q", proto)
}

// askUDP sends to target until it answers or timeout passes: the first
// datagram may wait on ARP, and a busy machine may be slow to answer.
func askUDP(pc *net.UDPConn, target string, timeout time.Duration) (string, error) {
	to, err := netip.ParseAddrPort(target)
	if err != nil {
		return "", err
	}
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 512)
	for time.Now().Before(deadline) {
		if _, err := pc.WriteToUDPAddrPort([]byte("?"), to); err != nil {
			return "", err
		}
		pc.SetReadDeadline(time.Now().Add(min(time.Until(deadline), 200*time.Millisecond)))
		for {
			n, from, err := pc.ReadFromUDPAddrPort(buf)
			if err != nil {
				break // resend
			}
			if from == to {
				return string(buf[:n]), nil
			}
		}
	}
	return "", errors.New("no answer")
}

// punch sends from UDP port to target until target's packets come
// through or timeout passes, and prints "got ADDR" with the address they
// came from: the hole punching of two peers that know each other's public
// address and port.
func punch(port int, timeout time.Duration, target string) error {
	to, err := netip.ParseAddrPort(target)
	if err != nil {
		return err
	}
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{Port: port})
	if err != nil {
		return err
	}
	defer pc.Close()
	buf := make([]byte, 512)
	var got netip.AddrPort
	// Once through, go on a little: the other side may still wait for
	// the packets that open its own NAT.
	stop := time.Now().Add(timeout)
	for time.Now().Before(stop) {
		if _, err := pc.WriteToUDPAddrPort([]byte("punch"), to); err != nil {
			return err
		}
		pc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if _, from, err := pc.ReadFromUDPAddrPort(buf); err == nil && !got.IsValid() {
			got = from
			if soon := time.Now().Add(500 * time.Millisecond); soon.Before(stop) {
				stop = soon
			}
		}
	}
	if !got.IsValid() {
		return errors.New("nothing came through")
	}
	fmt.Printf("got %s\n", got)
	return nil
}

// startServer runs serve in node on ports until the test ends.
func startServer(t *testing.T, node *netlab.Node, ports ...int) {
	t.Helper()
	args := []string{"serve"}
	for _, p := range ports {
		args = append(args, strconv.Itoa(p))
	}
	cmd := helperCommand(t, node, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if line != "ready\n" {
		t.Fatalf("server in %s: %q, %v", node.Name(), line, err)
	}
}

// probeResult is what a probe printed.
type probeResult struct {
	local uint16           // the probe's own UDP port
	seen  []netip.AddrPort // the probe's address as each target saw it
}

// runProbe runs probe in node and returns what the targets saw, or the
// probe's error.
func runProbe(t *testing.T, node *netlab.Node, proto string, timeout time.Duration, targets ...netip.AddrPort) (probeResult, error) {
	t.Helper()
	args := []string{"probe", proto, timeout.String()}
	for _, a := range targets {
		args = append(args, a.String())
	}
	var res probeResult
	out, err := helperCommand(t, node, args...).Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			err = fmt.Errorf("%v: %s", err, strings.TrimSpace(string(exit.Stderr)))
		}
		return res, err
	}
	for line := range strings.Lines(string(out)) {
		key, val, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch key {
		case "local":
			p, err := strconv.ParseUint(val, 10, 16)
			if err != nil {
				return res, fmt.Errorf("probe said %q", line)
			}
			res.local = uint16(p)
		case "seen":
			a, err := netip.ParseAddrPort(val)
			if err != nil {
				return res, fmt.Errorf("probe said %q", line)
			}
			res.seen = append(res.seen, a)
		}
	}
	if len(res.seen) != len(targets) {
		return res, fmt.Errorf("probe answered %d of %d targets: %q", len(res.seen), len(targets), out)
	}
	return res, nil
}

// helperCommand runs this test binary as a helper in node.
func helperCommand(t *testing.T, node *netlab.Node, args ...string) *exec.Cmd {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := node.Command(t.Context(), self, args...)
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	return cmd
}
