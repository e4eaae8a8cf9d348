package exchange

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	bstore "github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// pollen peers move blocks between themselves with two small protocols
// beside Bitswap (which stays for every other IPFS node). Bitswap's client
// sends each want-block to one peer, mostly the one that sent the most so
// far, so in a swarm every getter queues at the seeder; and a peer cannot
// tell another which blocks it gained. Here the getter learns which peer
// holds what and asks each for the blocks fewest peers hold (rarest
// first), as BitTorrent does.
//
// ProtoHave: the getter sends a list of CIDs; the server answers with the
// indexes of those it holds, then with more indexes as it stores more of
// them, until the getter closes the stream.
//
// ProtoBlocks: the getter sends lists of CIDs, pipelined; for each CID in
// order the server answers a status byte (1: the block follows as a
// uvarint length and its bytes; 0: not here).
const (
	ProtoHave   = protocol.ID("/pollen/have/1.0.0")
	ProtoBlocks = protocol.ID("/pollen/blocks/1.0.0")

	maxList     = 1 << 17 // CIDs in one list: a level of a DAG of 128 Ki blocks per message
	maxCIDLen   = 128     // bytes of a binary CID; sha2-256 CIDs take 36
	maxBlockLen = 4 << 20 // the largest block either protocol carries (Bitswap's message limit)
	ioTimeout   = time.Minute
)

var errProtocol = errors.New("protocol error")

// writeCIDs writes a list: uvarint count, then each CID as uvarint length
// and bytes.
func writeCIDs(w *bufio.Writer, cs []cid.Cid) error {
	var buf [binary.MaxVarintLen64]byte
	if _, err := w.Write(binary.AppendUvarint(buf[:0], uint64(len(cs)))); err != nil {
		return err
	}
	for _, c := range cs {
		b := c.Bytes()
		if _, err := w.Write(binary.AppendUvarint(buf[:0], uint64(len(b)))); err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return w.Flush()
}

// readCIDs reads a list written by writeCIDs.
func readCIDs(r *bufio.Reader) ([]cid.Cid, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > maxList {
		return nil, fmt.Errorf("%w: list of %d CIDs", errProtocol, n)
	}
	out := make([]cid.Cid, 0, n)
	var buf [maxCIDLen]byte
	for range n {
		l, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, unexpected(err)
		}
		if l == 0 || l > maxCIDLen {
			return nil, fmt.Errorf("%w: CID of %d bytes", errProtocol, l)
		}
		if _, err := io.ReadFull(r, buf[:l]); err != nil {
			return nil, unexpected(err)
		}
		c, err := cid.Cast(buf[:l])
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errProtocol, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// writeIndexes writes uvarint count, then each index as a uvarint.
func writeIndexes(w *bufio.Writer, idx []int) error {
	var buf [binary.MaxVarintLen64]byte
	w.Write(binary.AppendUvarint(buf[:0], uint64(len(idx))))
	for _, i := range idx {
		w.Write(binary.AppendUvarint(buf[:0], uint64(i)))
	}
	return w.Flush()
}

// readIndexes reads what writeIndexes wrote; every index is below n.
func readIndexes(r *bufio.Reader, n int) ([]int, error) {
	count, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if count > uint64(n) {
		return nil, fmt.Errorf("%w: %d indexes for a list of %d", errProtocol, count, n)
	}
	out := make([]int, count)
	for k := range out {
		i, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, unexpected(err)
		}
		if i >= uint64(n) {
			return nil, fmt.Errorf("%w: index %d in a list of %d", errProtocol, i, n)
		}
		out[k] = int(i)
	}
	return out, nil
}

// readBlock reads one answer of ProtoBlocks: the bytes, or nil when the
// server does not have the block.
func readBlock(r *bufio.Reader) ([]byte, bool, error) {
	status, err := r.ReadByte()
	if err != nil {
		return nil, false, err
	}
	switch status {
	case 0:
		return nil, false, nil
	case 1:
	default:
		return nil, false, fmt.Errorf("%w: status %d", errProtocol, status)
	}
	l, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, false, unexpected(err)
	}
	if l > maxBlockLen {
		return nil, false, fmt.Errorf("%w: block of %d bytes", errProtocol, l)
	}
	data := make([]byte, l)
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, false, unexpected(err)
	}
	return data, true, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// serveBlocks answers a peer's ProtoBlocks requests until it closes the
// stream.
func (e *Exchange) serveBlocks(s network.Stream) {
	defer s.Close()
	p := s.Conn().RemotePeer()
	r := bufio.NewReader(s)
	w := bufio.NewWriterSize(s, 64<<10)
	ctx := context.Background()
	var hdr [1 + binary.MaxVarintLen64]byte
	for {
		s.SetReadDeadline(time.Time{}) // a getter may wait long between lists
		cs, err := readCIDs(r)
		if err != nil {
			if err != io.EOF {
				s.Reset()
			}
			return
		}
		s.SetWriteDeadline(time.Now().Add(ioTimeout))
		for _, c := range cs {
			sent, wrote := 0, false
			err := e.view(ctx, c, func(data []byte) error {
				w.Write(binary.AppendUvarint(append(hdr[:0], 1), uint64(len(data))))
				_, err := w.Write(data)
				sent, wrote = len(data), true
				return err
			})
			switch {
			case wrote && err != nil: // the stream failed
				s.Reset()
				return
			case err != nil:
				w.WriteByte(0)
				continue
			}
			e.count(p, int64(sent), 1, true)
		}
		if err := w.Flush(); err != nil {
			s.Reset()
			return
		}
	}
}

// view calls fn with c's bytes, valid only during the call: through the
// store's View where it has one (pollen's reads packed blocks into a
// reused buffer), else through Get.
func (e *Exchange) view(ctx context.Context, c cid.Cid, fn func([]byte) error) error {
	if v, ok := e.store.(bstore.Viewer); ok {
		return v.View(ctx, c, fn)
	}
	b, err := e.store.Get(ctx, c)
	if err != nil {
		return err
	}
	return fn(b.RawData())
}

// has reports whether c can be served.
func (e *Exchange) has(ctx context.Context, c cid.Cid) bool {
	ok, _ := e.store.Has(ctx, c)
	return ok
}

// serveHave tells a peer which of the CIDs it lists are here, then which
// arrive, until it closes the stream or all are here.
func (e *Exchange) serveHave(s network.Stream) {
	defer s.Close()
	r := bufio.NewReader(s)
	w := bufio.NewWriterSize(s, 16<<10)
	s.SetReadDeadline(time.Now().Add(ioTimeout))
	cs, err := readCIDs(r)
	if err != nil {
		s.Reset()
		return
	}
	s.SetReadDeadline(time.Time{})
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	reading := make(chan struct{})
	go func() { // the getter closing its side ends the subscription
		defer close(reading)
		io.Copy(io.Discard, r)
		cancel()
	}()
	// The answer ends here; the reader ends when the getter closes its
	// side, or within ioTimeout.
	defer func() {
		s.CloseWrite()
		s.SetReadDeadline(time.Now().Add(ioTimeout))
		<-reading
	}()
	pending := make(map[string]int, len(cs))
	for i, c := range cs {
		pending[string(c.Hash())] = i
	}
	// askStore moves what the store holds out of pending. Call it after
	// taking the log's position, so that a block stored in between is
	// seen by one or the other.
	askStore := func() []int {
		var held []int
		for h, i := range pending {
			if ctx.Err() != nil {
				return nil
			}
			if e.has(ctx, cs[i]) {
				held = append(held, i)
				delete(pending, h)
			}
		}
		return held
	}
	seq, wake := e.notes.position()
	held := askStore()
	for first := true; ; first = false {
		if len(held) > 0 || first {
			s.SetWriteDeadline(time.Now().Add(ioTimeout))
			if err := writeIndexes(w, held); err != nil {
				s.Reset()
				return
			}
		}
		if len(pending) == 0 {
			return
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return
		}
		var hs []string
		var complete bool
		hs, seq, wake, complete = e.notes.since(seq)
		if !complete { // fell behind the log: ask the store
			held = askStore()
			continue
		}
		held = held[:0]
		for _, h := range hs {
			if i, ok := pending[h]; ok {
				held = append(held, i)
				delete(pending, h)
			}
		}
	}
}
