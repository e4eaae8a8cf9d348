package ui_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/pollen-p2p/pollen/ui"
)

func TestEscape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"photos", "photos"},
		{"café", "café"},
		{"日本語.txt", "日本語.txt"},
		{"🌼 pollen", "🌼 pollen"},
		{`back\slash "quoted"`, `back\slash "quoted"`},
		{"x\x1b]0;PWNED\a\x1b[31mred", `x\x1b]0;PWNED\a\x1b[31mred`},
		{"\u202egnp.exe", `\u202egnp.exe`},
		{"a\nb\tc\rd", `a\nb\tc\rd`},
		{"nul\x00del\x7f", `nul\x00del\x7f`},
		{"c1\u0085\u009b", `c1\u0085\u009b`},
		{"bidi\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069", `bidi\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069`},
		{"marks\u200e\u200f\u061c", `marks\u200e\u200f\u061c`},
		{"zero\u200bwidth\ufeff", `zero\u200bwidth\ufeff`},
		{"line\u2028para\u2029", `line\u2028para\u2029`},
		{"bad\xff\xc3utf8", `bad\xff\xc3utf8`},
		{"private\U000f0000", `private\U000f0000`},
		{"\ufffd is a real rune", "\ufffd is a real rune"},
	} {
		if got := ui.Escape(c.in); got != c.want {
			t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// dangerous reports a rune a terminal could act on or that hides itself.
func dangerous(r rune) bool {
	return unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) ||
		unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r) || r >= 0x80 && r < 0xa0
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"café", "x\x1b]0;PWNED\a\x1b[31m", "\u202egnp.exe", "bad\xff", "日本\u200d語"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := ui.Escape(in)
		if !utf8.ValidString(out) {
			t.Fatalf("Escape(%q) = %q: invalid UTF-8", in, out)
		}
		for _, r := range out {
			if dangerous(r) {
				t.Fatalf("Escape(%q) = %q keeps %U", in, out, r)
			}
		}
		graphic := utf8.ValidString(in)
		for _, r := range in {
			graphic = graphic && strconv.IsGraphic(r)
		}
		if graphic && out != in {
			t.Fatalf("Escape(%q) = %q: printable input changed", in, out)
		}
		if again := ui.Escape(out); again != out {
			t.Fatalf("Escape is not idempotent on %q: %q then %q", in, out, again)
		}
		// Without backslashes and quotes of its own, the escaped name reads
		// back as the name.
		if !strings.ContainsAny(in, `\"`) {
			if back, err := strconv.Unquote(`"` + out + `"`); err != nil || back != in {
				t.Fatalf("Escape(%q) = %q unquotes to %q, %v", in, out, back, err)
			}
		}
	})
}

func TestEscapeWriter(t *testing.T) {
	var buf bytes.Buffer
	w := ui.EscapeWriter(&buf)
	in := "saved x\x1b[31m\u202e日本\n  -o\tDIR\n"
	// A byte at a time: every multi-byte rune is split across writes.
	for i := 0; i < len(in); i++ {
		if n, err := w.Write([]byte{in[i]}); n != 1 || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if want := "saved x\\x1b[31m\\u202e日本\n  -o\tDIR\n"; buf.String() != want {
		t.Errorf("wrote %q, want %q", buf.String(), want)
	}
	buf.Reset()
	w.Write([]byte("bad\xff\xfe\n"))
	if want := `bad\xff\xfe` + "\n"; buf.String() != want {
		t.Errorf("wrote %q, want %q", buf.String(), want)
	}
}
