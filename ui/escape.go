package ui

import (
	"io"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Escape makes text safe to print on a terminal. Names come from
// strangers' DAGs: a control character could set the terminal's title or
// colours (ESC, BEL, C1), a bidi control could make "gnp.exe" read as
// "exe.png", and an invisible format character could make two names look
// the same. Every rune that is not graphic (strconv.IsGraphic: control,
// format, private-use, unassigned, line and paragraph separators) is
// written as Go's %q writes it (\x1b, \a, \u202e), and so is each byte of
// invalid UTF-8 (\xff). Everything else is left as it is, so "café",
// "日本語" and emoji stay readable; backslashes are not doubled, so a
// name that is graphic throughout prints unchanged.
func Escape(s string) string {
	i := firstUnsafe(s)
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	appendEscaped(&b, s[i:], "")
	return b.String()
}

// firstUnsafe returns the index of the first byte Escape would change, or
// len(s).
func firstUnsafe(s string) int {
	for i := 0; i < len(s); {
		if c := s[i]; c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if unsafeRune(r, n) {
			return i
		}
		i += n
	}
	return len(s)
}

// unsafeRune reports whether the rune r, decoded from n bytes, must be
// escaped: utf8.RuneError of one byte is invalid UTF-8.
func unsafeRune(r rune, n int) bool {
	return (r == utf8.RuneError && n == 1) || !strconv.IsGraphic(r)
}

const lowerhex = "0123456789abcdef"

// appendEscaped writes s to b escaped, leaving the runes in keep as they are.
func appendEscaped(b *strings.Builder, s, keep string) {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteByte(lowerhex[s[i]>>4])
			b.WriteByte(lowerhex[s[i]&0xf])
		case unsafeRune(r, n) && !strings.ContainsRune(keep, r):
			q := strconv.QuoteRune(r) // '\x1b': the escape between the quotes
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
}

// EscapeWriter returns a writer that escapes, as Escape does, all it is
// given except newlines and tabs, which lay out the command line's own
// text. It is the last guard on everything pollen prints; a name should
// still be passed through Escape where it is printed, so that a newline
// or tab inside it cannot fake a line or a column. A rune split across
// two writes is held back until its end arrives.
func EscapeWriter(w io.Writer) io.Writer { return &escapeWriter{w: w} }

type escapeWriter struct {
	mu      sync.Mutex
	w       io.Writer
	partial []byte // the start of a rune whose end has not been written yet
}

func (e *escapeWriter) Write(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := string(append(e.partial, p...))
	e.partial = e.partial[:0]
	if cut := incompleteTail(s); cut < len(s) {
		e.partial = append(e.partial, s[cut:]...)
		s = s[:cut]
	}
	var b strings.Builder
	appendEscaped(&b, s, "\n\t")
	if _, err := io.WriteString(e.w, b.String()); err != nil {
		return 0, err
	}
	return len(p), nil
}

// incompleteTail returns where a rune that could still be completed by
// the next write starts at the end of s, or len(s) when there is none.
func incompleteTail(s string) int {
	for n := 1; n < utf8.UTFMax && n <= len(s); n++ {
		i := len(s) - n
		if utf8.RuneStart(s[i]) {
			if !utf8.FullRuneInString(s[i:]) {
				return i
			}
			return len(s)
		}
	}
	return len(s)
}
