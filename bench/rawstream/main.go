// Command rawstream measures the transport ceiling for pollen's transfer
// benchmark: one go-libp2p stream (TCP, TLS, yamux) over loopback between
// two hosts, the receiver optionally hashing with SHA-256 as Bitswap must.
// With "stock" (the default) the hosts use go-libp2p's own TLS and yamux;
// with "pollen" they use pollen's (swarm.Security, swarm.Muxer), so the
// ceiling is the one pollen's own streams have.
// It prints "hashed_seconds unhashed_seconds" for BYTES bytes.
package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"github.com/pollen-p2p/pollen/swarm"
)

const proto = "/pollen-bench/raw/1"

func main() {
	size := int64(1 << 30)
	if len(os.Args) > 1 {
		n, err := strconv.ParseInt(os.Args[1], 10, 64)
		if err != nil {
			usage()
		}
		size = n
	}
	tpt := []libp2p.Option{libp2p.Security(libp2ptls.ID, libp2ptls.New), libp2p.Muxer(yamux.ID, yamux.DefaultTransport)}
	if len(os.Args) > 2 {
		switch os.Args[2] {
		case "stock":
		case "pollen":
			tpt = []libp2p.Option{swarm.Security(), swarm.Muxer()}
		default:
			usage()
		}
	}
	hashed, err := measure(size, true, tpt)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rawstream:", err)
		os.Exit(1)
	}
	plain, err := measure(size, false, tpt)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rawstream:", err)
		os.Exit(1)
	}
	fmt.Printf("%.3f %.3f\n", hashed.Seconds(), plain.Seconds())
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: rawstream [BYTES [stock|pollen]]")
	os.Exit(2)
}

func measure(size int64, hash bool, tpt []libp2p.Option) (time.Duration, error) {
	a, err := libp2p.New(append(tpt, libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.Transport(tcp.NewTCPTransport))...)
	if err != nil {
		return 0, err
	}
	defer a.Close()
	b, err := libp2p.New(append(tpt, libp2p.NoListenAddrs, libp2p.Transport(tcp.NewTCPTransport))...)
	if err != nil {
		return 0, err
	}
	defer b.Close()
	buf := make([]byte, 1<<20)
	a.SetStreamHandler(proto, func(s network.Stream) {
		defer s.Close()
		for left := size; left > 0; {
			n := min(left, int64(len(buf)))
			if _, err := s.Write(buf[:n]); err != nil {
				return
			}
			left -= n
		}
	})
	ctx := context.Background()
	if err := b.Connect(ctx, peer.AddrInfo{ID: a.ID(), Addrs: a.Addrs()}); err != nil {
		return 0, err
	}
	start := time.Now()
	s, err := b.NewStream(ctx, a.ID(), proto)
	if err != nil {
		return 0, err
	}
	var w io.Writer = io.Discard
	if hash {
		w = sha256.New()
	}
	n, err := io.CopyBuffer(w, s, make([]byte, 1<<20))
	if err != nil {
		return 0, err
	}
	if n != size {
		return 0, fmt.Errorf("read %d of %d bytes", n, size)
	}
	return time.Since(start), nil
}
