// Command rawstream measures the transport ceiling for pollen's transfer
// benchmark: one go-libp2p stream (TCP, TLS, yamux) over loopback between
// two hosts, the receiver optionally hashing with SHA-256 as Bitswap must.
// With "stock" (the default) the hosts use go-libp2p's own TLS and yamux;
// with "pollen" they use pollen's (swarm.Security, swarm.Muxer), so the
// ceiling is the one pollen's own streams have.
// It prints "hashed_seconds unhashed_seconds" for BYTES bytes.
//
// Across two machines or network namespaces (bench/lfn.sh), with pollen's
// TLS and yamux, TCP and QUIC:
//
//	rawstream serve LISTEN_MULTIADDR BYTES   prints its addresses, serves BYTES to every stream until stopped
//	rawstream fetch MULTIADDR BYTES          prints "total_seconds stream_seconds"
//
// where the total counts the connection's set-up and the stream's time
// does not.
package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"github.com/pollen-p2p/pollen/swarm"
)

const proto = "/pollen-bench/raw/1"

func main() {
	if len(os.Args) == 4 && (os.Args[1] == "serve" || os.Args[1] == "fetch") {
		size, err := strconv.ParseInt(os.Args[3], 10, 64)
		if err != nil {
			usage()
		}
		if os.Args[1] == "serve" {
			err = serve(os.Args[2], size)
		} else {
			err = fetch(os.Args[2], size)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "rawstream:", err)
			os.Exit(1)
		}
		return
	}
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
	fmt.Fprintln(os.Stderr, "usage: rawstream [BYTES [stock|pollen]] | serve LISTEN_MULTIADDR BYTES | fetch MULTIADDR BYTES")
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
	a.SetStreamHandler(proto, sender(size))
	if err := b.Connect(context.Background(), peer.AddrInfo{ID: a.ID(), Addrs: a.Addrs()}); err != nil {
		return 0, err
	}
	var w io.Writer = io.Discard
	if hash {
		w = sha256.New()
	}
	return receive(b, a.ID(), size, w)
}

// sender answers every stream with size bytes.
func sender(size int64) network.StreamHandler {
	buf := make([]byte, 1<<20)
	return func(s network.Stream) {
		defer s.Close()
		for left := size; left > 0; {
			n := min(left, int64(len(buf)))
			if _, err := s.Write(buf[:n]); err != nil {
				return
			}
			left -= n
		}
	}
}

// receive opens a stream to p and reads size bytes from it into w.
func receive(h host.Host, p peer.ID, size int64, w io.Writer) (time.Duration, error) {
	start := time.Now()
	s, err := h.NewStream(context.Background(), p, proto)
	if err != nil {
		return 0, err
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

// pollenTransports are pollen's TLS and yamux over TCP, and QUIC.
var pollenTransports = []libp2p.Option{swarm.Security(), swarm.Muxer(), libp2p.Transport(tcp.NewTCPTransport), libp2p.Transport(quic.NewTransport)}

func serve(listen string, size int64) error {
	h, err := libp2p.New(append(pollenTransports, libp2p.ListenAddrStrings(listen))...)
	if err != nil {
		return err
	}
	defer h.Close()
	h.SetStreamHandler(proto, sender(size))
	for _, a := range h.Addrs() {
		fmt.Printf("%s/p2p/%s\n", a, h.ID())
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	return nil
}

func fetch(addr string, size int64) error {
	info, err := peer.AddrInfoFromString(addr)
	if err != nil {
		return err
	}
	h, err := libp2p.New(append(pollenTransports, libp2p.NoListenAddrs)...)
	if err != nil {
		return err
	}
	defer h.Close()
	start := time.Now()
	if err := h.Connect(context.Background(), *info); err != nil {
		return err
	}
	d, err := receive(h, info.ID, size, io.Discard)
	if err != nil {
		return err
	}
	fmt.Printf("%.3f %.3f\n", time.Since(start).Seconds(), d.Seconds())
	return nil
}
