// Command delayline holds a long fat link between two network namespaces
// open for a bench script (internal/delayline): it prints
//
//	ready NAMESPACE_A ADDR_A NAMESPACE_B ADDR_B
//
// once the link is up, forwards until SIGINT or SIGTERM (with -every, printing
// the rate each way on standard error as it goes), then removes the
// namespaces, killing what still runs in them, and prints what crossed
// each way on standard error. It needs root.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pollen-p2p/pollen/internal/delayline"
)

func main() {
	mbit := flag.Float64("mbit", 100, "the link's rate each way, in Mbit/s")
	rtt := flag.Duration("rtt", 80*time.Millisecond, "the round trip the link adds")
	queue := flag.Int("queue", 0, "bytes the queue holds before it drops (0: one bandwidth-delay product)")
	every := flag.Duration("every", 0, "print the rate each way this often on standard error (0: never)")
	flag.Parse()
	l, err := delayline.Open(delayline.Config{Rate: int64(*mbit * 1e6), RTT: *rtt, Queue: *queue})
	if err != nil {
		fmt.Fprintln(os.Stderr, "delayline:", err)
		os.Exit(1)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	fmt.Printf("ready %s %s %s %s\n", l.A, delayline.AddrA, l.B, delayline.AddrB)
	var tick <-chan time.Time
	if *every > 0 {
		t := time.NewTicker(*every)
		defer t.Stop()
		tick = t.C
	}
	start := time.Now()
	var last0, last1 delayline.Stats
	for wait := true; wait; {
		select {
		case <-sig:
			wait = false
		case now := <-tick:
			ab, ba := l.Stats()
			mbit := func(s, last delayline.Stats) float64 { return float64(s.Bytes-last.Bytes) * 8 / every.Seconds() / 1e6 }
			fmt.Fprintf(os.Stderr, "%7.2f s  A to B %6.1f Mbit/s %d dropped  B to A %6.1f Mbit/s %d dropped\n",
				now.Sub(start).Seconds(), mbit(ab, last0), ab.Dropped-last0.Dropped, mbit(ba, last1), ba.Dropped-last1.Dropped)
			last0, last1 = ab, ba
		}
	}
	ab, ba := l.Stats()
	err = l.Close()
	fmt.Fprintf(os.Stderr, "delayline: A to B %d packets, %d bytes, %d dropped; B to A %d packets, %d bytes, %d dropped\n",
		ab.Packets, ab.Bytes, ab.Dropped, ba.Packets, ba.Bytes, ba.Dropped)
	if err != nil {
		fmt.Fprintln(os.Stderr, "delayline:", err)
		os.Exit(1)
	}
}
