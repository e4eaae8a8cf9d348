package live

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Proto is the live protocol: a follower names a folder and the version
// it holds; the holder answers with each newer version it comes to hold,
// for as long as the follower keeps the stream open.
//
//	follower → holder   field(name: binary peer ID) uvarint(seq held)
//	holder → follower   field(record)...   each newer than the last sent
//	                    field(empty)       "I hold no version of it"; then closes
//
// The follower sends nothing more; a byte from it after its request
// resets the stream, and its closing the stream ends the subscription.
// A holder sends only versions whose blocks it holds, so a follower told
// of one by a peer can fetch it there.
const Proto = protocol.ID("/pollen/live/1.0.0")

const maxNameLen = 64 // a binary peer ID: 38 bytes for an Ed25519 key

var errProtocol = errors.New("live: protocol violation")

// writeRequest writes a follower's request.
func writeRequest(w *bufio.Writer, name peer.ID, have uint64) error {
	b := binary.AppendUvarint(nil, uint64(len(name)))
	b = append(b, name...)
	b = binary.AppendUvarint(b, have)
	w.Write(b)
	return w.Flush()
}

// readRequest reads a follower's request, refusing a name that is not a
// peer ID.
func readRequest(r *bufio.Reader) (peer.ID, uint64, error) {
	b, err := readField(r, maxNameLen)
	if err != nil {
		return "", 0, err
	}
	name := peer.ID(b)
	if err := name.Validate(); err != nil || len(b) == 0 {
		return "", 0, fmt.Errorf("%w: bad name", errProtocol)
	}
	if _, err := name.ExtractPublicKey(); err != nil {
		// An IPNS name's record is checked against its key: a name that
		// does not hold its key would need the key from each record.
		return "", 0, fmt.Errorf("%w: name does not hold its key", errProtocol)
	}
	have, err := binary.ReadUvarint(r)
	if err != nil {
		return "", 0, err
	}
	return name, have, nil
}

// writeRecord writes one record (nil for "none").
func writeRecord(w *bufio.Writer, raw []byte) error {
	w.Write(binary.AppendUvarint(nil, uint64(len(raw))))
	w.Write(raw)
	return w.Flush()
}

// readRecord reads one record field, at most MaxRecord bytes; an empty
// one is the holder saying it holds none.
func readRecord(r *bufio.Reader) ([]byte, error) {
	return readField(r, uint64(MaxRecord))
}

func readField(r *bufio.Reader, max uint64) ([]byte, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, fmt.Errorf("%w: field of %d bytes, over %d", errProtocol, n, max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	return b, nil
}
