package exchange

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ipfs/go-cid"
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
// ProtoHaveFetching is ProtoHave whose answers also say which of the
// CIDs the server is fetching (has asked a peer for and does not hold
// yet): each answer is tagged (see writeTagged). Getters fetching
// together learn what the others are bringing, so that two of them do
// not take the same rare block from the seeder at the same moment; the
// later one waits and takes it from the first. Getters ask for it first
// and fall back to ProtoHave with older peers.
//
// ProtoBlocks: the getter sends lists of CIDs, pipelined; for each CID in
// order the server answers a status byte (1: the block follows as a
// uvarint length and its bytes; 0: not here).
//
// ProtoBlocksChoke is ProtoBlocks with choking and cancels (choke.go):
// each message of the getter is tagged (uvarint count<<1 | kind, then
// the CIDs): kind 0 asks for the CIDs, kind 1 cancels those not sent
// yet. The server may answer a CID it holds with "withheld" (status 2:
// cancelled, or the getter is choked; ask again once unchoked), and says
// "unchoked" (status 3) between answers, answering no CID, when a
// choked getter may ask again. Getters ask for it first and fall back
// to ProtoBlocks with older peers.
const (
	ProtoHave         = protocol.ID("/pollen/have/1.0.0")
	ProtoHaveFetching = protocol.ID("/pollen/have/1.1.0")
	ProtoBlocks       = protocol.ID("/pollen/blocks/1.0.0")
	ProtoBlocksChoke  = protocol.ID("/pollen/blocks/1.1.0")

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
	n, err := readCount(r)
	if err != nil {
		return nil, err
	}
	return readCIDList(r, n)
}

// readCount reads the length of a list, so that a server can count it
// against its budget before it reads the list.
func readCount(r *bufio.Reader) (int, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return 0, err
	}
	if n > maxList {
		return 0, fmt.Errorf("%w: list of %d CIDs", errProtocol, n)
	}
	return int(n), nil
}

// readCIDList reads the n CIDs of a list whose length was read.
func readCIDList(r *bufio.Reader, n int) ([]cid.Cid, error) {
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

// The kinds of a ProtoHaveFetching answer.
const (
	kindHolds    = 0 // the server holds these
	kindFetching = 1 // the server asked a peer for these, and holds them not yet
)

// writeTagged writes an answer of ProtoHaveFetching: uvarint
// count<<1 | kind, then each index as a uvarint.
func writeTagged(w *bufio.Writer, kind int, idx []int) error {
	var buf [binary.MaxVarintLen64]byte
	w.Write(binary.AppendUvarint(buf[:0], uint64(len(idx))<<1|uint64(kind&1)))
	for _, i := range idx {
		w.Write(binary.AppendUvarint(buf[:0], uint64(i)))
	}
	return w.Flush()
}

// readTagged reads what writeTagged wrote; every index is below n.
func readTagged(r *bufio.Reader, n int) (kind int, idx []int, err error) {
	h, err := binary.ReadUvarint(r)
	if err != nil {
		return 0, nil, err
	}
	idx, err = readIndexList(r, h>>1, n)
	return int(h & 1), idx, err
}

// readIndexes reads what writeIndexes wrote; every index is below n.
func readIndexes(r *bufio.Reader, n int) ([]int, error) {
	count, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	return readIndexList(r, count, n)
}

// readIndexList reads count indexes, each below n.
func readIndexList(r *bufio.Reader, count uint64, n int) ([]int, error) {
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

// The kinds of a ProtoBlocksChoke message from the getter.
const (
	msgWant   = 0 // answer these CIDs, in order
	msgCancel = 1 // answer those of these not sent yet as withheld
)

// writeMessage writes a message of ProtoBlocksChoke: uvarint
// count<<1 | kind, then each CID as writeCIDs does.
func writeMessage(w *bufio.Writer, kind int, cs []cid.Cid) error {
	var buf [binary.MaxVarintLen64]byte
	w.Write(binary.AppendUvarint(buf[:0], uint64(len(cs))<<1|uint64(kind&1)))
	for _, c := range cs {
		b := c.Bytes()
		w.Write(binary.AppendUvarint(buf[:0], uint64(len(b))))
		w.Write(b)
	}
	return w.Flush()
}

// readMessageHead reads the head of a ProtoBlocksChoke message: its kind
// and how many CIDs follow (read them with readCIDList).
func readMessageHead(r *bufio.Reader) (kind, n int, err error) {
	h, err := binary.ReadUvarint(r)
	if err != nil {
		return 0, 0, err
	}
	if h>>1 > maxList {
		return 0, 0, fmt.Errorf("%w: list of %d CIDs", errProtocol, h>>1)
	}
	return int(h & 1), int(h >> 1), nil
}

// The answers of ProtoBlocks, one per CID asked; ProtoBlocksChoke's
// statusUnchoked answers none.
const (
	statusMissing  = 0 // not here
	statusBlock    = 1 // the block follows
	statusWithheld = 2 // not sent: cancelled, or the getter is choked
	statusUnchoked = 3 // the getter may ask again
)

// readBlock reads one answer of ProtoBlocks (choke false) or
// ProtoBlocksChoke: its status, and the bytes of a block.
func readBlock(r *bufio.Reader, choke bool) (int, []byte, error) {
	status, err := r.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	switch {
	case status == statusMissing, choke && (status == statusWithheld || status == statusUnchoked):
		return int(status), nil, nil
	case status != statusBlock:
		return 0, nil, fmt.Errorf("%w: status %d", errProtocol, status)
	}
	l, err := binary.ReadUvarint(r)
	if err != nil {
		return 0, nil, unexpected(err)
	}
	if l > maxBlockLen {
		return 0, nil, fmt.Errorf("%w: block of %d bytes", errProtocol, l)
	}
	data := make([]byte, l)
	if _, err := io.ReadFull(r, data); err != nil {
		return 0, nil, unexpected(err)
	}
	return statusBlock, data, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
