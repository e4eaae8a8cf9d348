package chunker

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ipfs/go-cid"
)

// A journal keeps what a Placer finished, until Finish gives files their
// names: the complete files (with where each leaf is in them), the
// symlinks and the empty folders to make. It is a file beside the
// target (in its nearest folder that exists), removed as soon as it is
// made (it lives while it is open), so a get of a million files holds
// none of them in memory, and a crash leaves nothing behind: the next
// run adopts the temporary files.
type journal struct {
	dir string
	f   *os.File // nil until the first record is flushed, or when none could be made
	on  int64    // bytes of f written
	// buf holds records not written to f yet: all of them when no file
	// could be made (a read-only target a get has nothing to write to).
	buf    []byte
	nofile bool
}

// flushAt is how many bytes of records are held before they are written.
const flushAt = 64 << 10

type recordKind byte

const (
	fileRecord recordKind = 'f'
	linkRecord recordKind = 'l'
	dirRecord  recordKind = 'd'
)

// record is one entry of the journal.
type record struct {
	kind   recordKind
	rel    string
	target string // linkRecord
	size   int64
	keep   bool     // the file at rel held the DAG's bytes: nothing to rename
	made   bool     // this run made the temporary file
	leaves []Placed // Path unset
}

// add appends r. Its bytes are kept even when writing them fails, so an
// Abort can still remove what the journal lists.
func (j *journal) add(r record) error {
	b := append(j.buf, byte(r.kind))
	b = appendString(b, r.rel)
	switch r.kind {
	case linkRecord:
		b = appendString(b, r.target)
	case fileRecord:
		b = binary.AppendVarint(b, r.size)
		flags := byte(0)
		if r.keep {
			flags |= 1
		}
		if r.made {
			flags |= 2
		}
		b = append(b, flags)
		b = binary.AppendUvarint(b, uint64(len(r.leaves)))
		for _, l := range r.leaves {
			b = appendString(b, string(l.Cid.Bytes()))
			b = binary.AppendVarint(b, l.Off)
			b = binary.AppendUvarint(b, uint64(l.Size))
		}
	}
	j.buf = b
	if len(j.buf) < flushAt {
		return nil
	}
	return j.flush()
}

// flush writes the records held to the file, making it at the first
// flush; where no file can be made, they stay in memory.
func (j *journal) flush() error {
	if len(j.buf) == 0 || j.nofile {
		return nil
	}
	if j.f == nil {
		f, err := os.CreateTemp(nearestExisting(j.dir), ".pollen-journal-*")
		if err != nil {
			j.nofile = true
			return nil
		}
		os.Remove(f.Name()) // where it cannot be, it goes at close
		j.f = f
	}
	n, err := j.f.WriteAt(j.buf, j.on)
	j.on += int64(n)
	j.buf = j.buf[:copy(j.buf, j.buf[n:])]
	if err != nil {
		return diskFull(err, j.dir)
	}
	return nil
}

// each calls fn with every record, in the order they were added, and
// stops at the first error.
func (j *journal) each(fn func(record) error) error {
	var src io.Reader = bytes.NewReader(j.buf)
	if j.f != nil {
		src = io.MultiReader(io.NewSectionReader(j.f, 0, j.on), src)
	}
	r := bufio.NewReaderSize(src, 64<<10)
	for {
		rec, err := readRecord(r)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading back the list of finished files: %w", err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
}

func (j *journal) close() {
	if j.f != nil {
		name := j.f.Name()
		j.f.Close()
		os.Remove(name)
	}
	j.f, j.on, j.buf, j.nofile = nil, 0, nil, false
}

func readRecord(r *bufio.Reader) (record, error) {
	k, err := r.ReadByte()
	if err != nil {
		return record{}, err
	}
	rec := record{kind: recordKind(k)}
	if rec.rel, err = readString(r); err != nil {
		return rec, err
	}
	switch rec.kind {
	case dirRecord:
	case linkRecord:
		rec.target, err = readString(r)
	case fileRecord:
		if rec.size, err = binary.ReadVarint(r); err != nil {
			return rec, err
		}
		flags, err := r.ReadByte()
		if err != nil {
			return rec, err
		}
		rec.keep, rec.made = flags&1 != 0, flags&2 != 0
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return rec, err
		}
		rec.leaves = make([]Placed, 0, min(n, 1024))
		for range n {
			s, err := readString(r)
			if err != nil {
				return rec, err
			}
			c, err := cid.Cast([]byte(s))
			if err != nil {
				return rec, err
			}
			off, err := binary.ReadVarint(r)
			if err != nil {
				return rec, err
			}
			size, err := binary.ReadUvarint(r)
			if err != nil {
				return rec, err
			}
			rec.leaves = append(rec.leaves, Placed{Cid: c, Off: off, Size: int(size)})
		}
	default:
		return rec, fmt.Errorf("record of unknown kind %q", k)
	}
	return rec, err
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func readString(r *bufio.Reader) (string, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return "", err
	}
	if n > 1<<16 {
		return "", fmt.Errorf("a string of %d bytes", n)
	}
	b := make([]byte, n)
	_, err = io.ReadFull(r, b)
	return string(b), err
}
