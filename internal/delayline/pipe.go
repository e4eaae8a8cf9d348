package delayline

import (
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// mtu is the TUN devices' MTU, Ethernet's: what a path across the
// internet usually carries.
const mtu = 1500

// pipe carries packets one way: read from in, queued while the rate is
// busy, written to out once sent and delayed.
type pipe struct {
	in, out *os.File
	rate    float64 // bytes a second
	delay   time.Duration
	limit   int // bytes the queue holds
	q       chan packet
	done    chan struct{}
	bufs    sync.Pool

	// busy is when the rate is free again: the moment the last byte of
	// the last packet queued is sent. Only read touches it.
	busy time.Time

	packets, bytes, dropped atomic.Int64
}

type packet struct {
	b   *[mtu]byte
	n   int
	due time.Time // when it comes out at the far end
}

func newPipe(in, out *os.File, rate int64, delay time.Duration, limit int) *pipe {
	return &pipe{
		in: in, out: out, rate: float64(rate) / 8, delay: delay, limit: limit,
		// Room for every packet the queue and the line can hold, down to
		// bare ACKs; past it, read waits and the device's own queue drops.
		q:    make(chan packet, 1<<16),
		done: make(chan struct{}),
		bufs: sync.Pool{New: func() any { return new([mtu]byte) }},
	}
}

// read takes packets as the kernel hands them over and gives each its
// time at the far end: sent once the packets before it are, at the rate,
// then the delay. A packet that would find the queue full is dropped, as a
// router's drop-tail queue does. Deadlines follow from the schedule, not
// from when a goroutine happens to wake, so a late wake-up adds jitter
// and never takes rate away.
func (p *pipe) read() {
	defer close(p.q)
	for {
		b := p.bufs.Get().(*[mtu]byte)
		n, err := p.in.Read(b[:])
		if err != nil {
			return // closed
		}
		now := time.Now()
		start := p.busy
		if start.Before(now) {
			start = now
		}
		if queued := start.Sub(now).Seconds() * p.rate; int(queued)+n > p.limit {
			p.dropped.Add(1)
			p.bufs.Put(b)
			continue
		}
		p.busy = start.Add(time.Duration(float64(n) / p.rate * float64(time.Second)))
		select {
		case p.q <- packet{b, n, p.busy.Add(p.delay)}:
		case <-p.done:
			return
		}
	}
}

// write hands each packet to the far end's kernel when it is due.
func (p *pipe) write() {
	t := time.NewTimer(0)
	defer t.Stop()
	for pk := range p.q {
		if d := time.Until(pk.due); d > 0 {
			t.Reset(d)
			select {
			case <-t.C:
			case <-p.done:
				return
			}
		}
		if _, err := p.out.Write(pk.b[:pk.n]); err == nil {
			p.packets.Add(1)
			p.bytes.Add(int64(pk.n))
		}
		p.bufs.Put(pk.b)
	}
}

// close stops read and write; the caller waits for them, then closes the
// devices.
func (p *pipe) close() {
	close(p.done)
	p.in.SetReadDeadline(time.Now())
}

func (p *pipe) stats() Stats {
	return Stats{Packets: p.packets.Load(), Bytes: p.bytes.Load(), Dropped: p.dropped.Load()}
}
