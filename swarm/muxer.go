package swarm

import (
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	goyamux "github.com/libp2p/go-yamux/v5"
)

// maxFrame is the largest yamux frame a pollen host sends: the initial
// stream window every yamux peer grants, so any of them accepts it.
// libp2p's default is 64 KiB, which cuts a 1 MiB block into 16 frames,
// each a hand-off to the connection's writer and a wake-up of the
// reader on the other side. A 1 GiB get over loopback took 3.09 s
// against 3.47 s (medians of 5 alternated runs); one raw stream was as
// fast either way (bench/rawstream, which uses this muxer too).
const maxFrame = 256 << 10

// Muxer is the stream multiplexer of pollen hosts: libp2p's yamux (16 MiB
// stream windows), sending frames of up to maxFrame bytes.
func Muxer() libp2p.Option {
	c := *(*goyamux.Config)(yamux.DefaultTransport)
	c.MaxMessageSize = maxFrame
	return libp2p.Muxer(yamux.ID, (*yamux.Transport)(&c))
}
