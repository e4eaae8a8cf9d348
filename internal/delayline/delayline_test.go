package delayline_test

import (
	"errors"
	"net"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pollen-p2p/pollen/internal/delayline"
)

// open opens a link and closes it when the test ends, failing the test if
// a namespace is left. Without root it skips, unless POLLEN_REQUIRE_NETNS
// is set (CI), where it fails.
func open(t *testing.T, cfg delayline.Config) *delayline.Link {
	t.Helper()
	l, err := delayline.Open(cfg)
	if err != nil {
		if os.Getenv("POLLEN_REQUIRE_NETNS") == "" && errors.Is(err, delayline.ErrUnavailable) {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Error(err)
		}
		for _, ns := range []string{l.A, l.B} {
			if _, err := os.Stat("/run/netns/" + ns); err == nil {
				t.Errorf("namespace %s left behind", ns)
			}
		}
	})
	return l
}

func inNetns(t *testing.T, ns string, fn func() error) {
	t.Helper()
	if err := delayline.InNetns(ns, fn); err != nil {
		t.Fatal(err)
	}
}

// TestDelayAndRate checks the round trip with small datagrams, and the rate
// with a stream of full ones sent faster than the link takes them.
func TestDelayAndRate(t *testing.T) {
	const (
		rate    = 40e6
		rtt     = 40 * time.Millisecond
		payload = 1400
		ipSize  = payload + 28 // IPv4 and UDP headers
	)
	l := open(t, delayline.Config{Rate: rate, RTT: rtt})
	var echo, sink, probe, blast *net.UDPConn
	inNetns(t, l.B, func() (err error) {
		if echo, err = net.ListenUDP("udp4", &net.UDPAddr{IP: delayline.AddrB.AsSlice(), Port: 7}); err != nil {
			return err
		}
		sink, err = net.ListenUDP("udp4", &net.UDPAddr{IP: delayline.AddrB.AsSlice(), Port: 9})
		return err
	})
	inNetns(t, l.A, func() (err error) {
		if probe, err = net.DialUDP("udp4", nil, &net.UDPAddr{IP: delayline.AddrB.AsSlice(), Port: 7}); err != nil {
			return err
		}
		blast, err = net.DialUDP("udp4", nil, &net.UDPAddr{IP: delayline.AddrB.AsSlice(), Port: 9})
		return err
	})
	for _, c := range []*net.UDPConn{echo, sink, probe, blast} {
		defer c.Close()
	}
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := echo.ReadFromUDP(buf)
			if err != nil {
				return
			}
			echo.WriteToUDP(buf[:n], from)
		}
	}()

	var rtts []time.Duration
	buf := make([]byte, 2048)
	for range 5 {
		start := time.Now()
		probe.SetReadDeadline(start.Add(time.Second))
		if _, err := probe.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		if _, err := probe.Read(buf); err != nil {
			t.Fatal(err)
		}
		rtts = append(rtts, time.Since(start))
	}
	best := slices.Min(rtts)
	t.Logf("round trips %v", rtts)
	if best < rtt || best > rtt+rtt/4 {
		t.Errorf("round trip %v, want %v to %v", best, rtt, rtt+rtt/4)
	}

	// 60 bursts of 50 datagrams 5 ms apart: 114 Mbit/s offered, so the
	// queue stays full and what arrives comes at the link's rate.
	var mu sync.Mutex
	var arrivals []time.Time
	go func() {
		b := make([]byte, 2048)
		for {
			if _, err := sink.Read(b); err != nil {
				return
			}
			mu.Lock()
			arrivals = append(arrivals, time.Now())
			mu.Unlock()
		}
	}()
	data := make([]byte, payload)
	for range 60 {
		for range 50 {
			blast.Write(data)
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(rtt) // the last ones in the queue and on the line
	mu.Lock()
	got := slices.Clone(arrivals)
	mu.Unlock()
	if len(got) < 100 {
		t.Fatalf("%d datagrams arrived", len(got))
	}
	span := got[len(got)-1].Sub(got[0])
	measured := float64(len(got)-1) * ipSize * 8 / span.Seconds()
	ab, _ := l.Stats()
	t.Logf("%d datagrams in %v: %.1f Mbit/s; A to B: %+v", len(got), span, measured/1e6, ab)
	if measured < 0.9*rate || measured > 1.1*rate {
		t.Errorf("rate %.1f Mbit/s, want %.0f ± 10%%", measured/1e6, rate/1e6)
	}
	if ab.Dropped == 0 {
		t.Errorf("nothing dropped: the queue should have overflowed")
	}
}
