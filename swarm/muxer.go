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
// reader on the other side (figures: docs/performance.md).
const maxFrame = 256 << 10

// Muxer is the stream multiplexer of pollen hosts: libp2p's yamux (16 MiB
// stream windows), sending frames of up to maxFrame bytes.
func Muxer() libp2p.Option {
	c := *(*goyamux.Config)(yamux.DefaultTransport)
	c.MaxMessageSize = maxFrame
	return libp2p.Muxer(yamux.ID, (*yamux.Transport)(&c))
}
