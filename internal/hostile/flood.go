// Package hostile drives peers that attack a pollen node, for the tests
// and benchmarks that check the node holds: floods of pollen's have and
// blocks protocols and of Bitswap, from as many identities as asked.
package hostile

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"sync"

	bsmsg "github.com/ipfs/boxo/bitswap/message"
	pb "github.com/ipfs/boxo/bitswap/message/pb"
	bsnet "github.com/ipfs/boxo/bitswap/network/bsnet"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	mh "github.com/multiformats/go-multihash"
)

// The protocols flooded, as pollen names them.
const (
	ProtoHave   = protocol.ID("/pollen/have/1.0.0")
	ProtoBlocks = protocol.ID("/pollen/blocks/1.0.0")
)

// NewHost makes a fresh identity listening on loopback.
func NewHost() (host.Host, error) {
	return libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
}

// RandomCIDs returns n CIDs of blocks nobody has.
func RandomCIDs(n int) []cid.Cid {
	out := make([]cid.Cid, n)
	var buf [32]byte
	for i := range out {
		rand.Read(buf[:])
		h, _ := mh.Sum(buf[:], mh.SHA2_256, -1)
		out[i] = cid.NewCidV1(cid.Raw, h)
	}
	return out
}

// list encodes cs as pollen's have and blocks protocols send them.
func list(cs []cid.Cid) []byte {
	out := binary.AppendUvarint(nil, uint64(len(cs)))
	for _, c := range cs {
		b := c.Bytes()
		out = binary.AppendUvarint(out, uint64(len(b)))
		out = append(out, b...)
	}
	return out
}

// Flood is one attack's tally.
type Flood struct {
	mu             sync.Mutex
	Opened, Failed int // streams opened, and those that failed to open or send
}

func (f *Flood) count(ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ok {
		f.Opened++
	} else {
		f.Failed++
	}
}

// Have opens streams ProtoHave streams from h to target, each listing
// perStream random CIDs, and holds them open until ctx ends: the
// subscriptions a getter makes, for blocks that will never arrive.
func Have(ctx context.Context, h host.Host, target peer.AddrInfo, streams, perStream int, f *Flood) {
	cs := RandomCIDs(perStream)
	msg := list(cs)
	flood(ctx, h, target, ProtoHave, streams, f, func(w *bufio.Writer) error {
		_, err := w.Write(msg)
		return err
	})
}

// Blocks opens streams ProtoBlocks streams from h to target and keeps
// asking each for perList random CIDs without reading the answers.
func Blocks(ctx context.Context, h host.Host, target peer.AddrInfo, streams, perList int, f *Flood) {
	msg := list(RandomCIDs(perList))
	flood(ctx, h, target, ProtoBlocks, streams, f, func(w *bufio.Writer) error {
		for range 8 {
			if _, err := w.Write(msg); err != nil {
				return err
			}
		}
		return nil
	})
}

// flood opens the streams at once and holds them until ctx ends.
func flood(ctx context.Context, h host.Host, target peer.AddrInfo, proto protocol.ID, streams int, f *Flood, send func(*bufio.Writer) error) {
	if err := h.Connect(ctx, target); err != nil {
		f.count(false)
		return
	}
	var wg sync.WaitGroup
	for range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := h.NewStream(ctx, target.ID, proto)
			if err != nil {
				f.count(false)
				return
			}
			defer s.Reset()
			w := bufio.NewWriterSize(s, 64<<10)
			if err := send(w); err != nil || w.Flush() != nil {
				f.count(false)
				return
			}
			f.count(true)
			<-ctx.Done()
		}()
	}
	wg.Wait()
}

// Bitswap sends target wantlists of perMsg random CIDs, msgs times, as
// want-have, asking to be told when they arrive (SendDontHave).
func Bitswap(ctx context.Context, h host.Host, target peer.AddrInfo, msgs, perMsg int) error {
	if err := h.Connect(ctx, target); err != nil {
		return err
	}
	net := bsnet.NewFromIpfsHost(h)
	for range msgs {
		m := bsmsg.New(false)
		for _, c := range RandomCIDs(perMsg) {
			m.AddEntry(c, 1, pb.Message_Wantlist_Have, true)
		}
		if err := net.SendMessage(ctx, target.ID, m); err != nil {
			return err
		}
	}
	return nil
}
