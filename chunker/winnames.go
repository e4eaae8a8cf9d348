package chunker

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// CheckWindowsName refuses a name that Windows cannot store as given, on
// top of what [CheckName] refuses everywhere. The Windows build's
// CheckName applies it to every name an export meets; it is pure and
// built everywhere, so its rules are tested on any system. A share made
// on Linux may hold any of these names, and on Windows each would fail
// half way through a get, or worse, land on something other than the
// file it names:
//
//   - a device name: CON, PRN, AUX, NUL, COM1 to COM9, LPT1 to LPT9,
//     COM¹ COM² COM³ LPT¹ LPT² LPT³ (Windows reads ¹²³ as digits), and
//     CONIN$ and CONOUT$ (the console), in any case, alone or with an
//     extension or spaces after it ("nul.txt", "Com1 .log"): Windows
//     opens the device instead of a file. Windows 11 no longer does so
//     with an extension, earlier versions do, and a share must get on
//     both. COM0 and LPT0, which Microsoft's page lists too, are ordinary
//     names on Windows 10 and 11 (Git for Windows and Go's filepath found
//     the same), so they pass: this is Go's set, with extensions always.
//   - a name ending in a dot or a space: Windows drops them, so "a." is
//     the file "a", which may be another entry's.
//   - the characters < > : " / \ | ? * and the control characters 0 to
//     31: ":" names a data stream of another file ("a:b" is stream b of
//     a) or a drive ("C:x"), the others are separators or wildcards.
//   - bytes that are not UTF-8: Windows names are UTF-16, and Go writes
//     such a name with U+FFFD in place of the bytes, a name two entries
//     could share.
func CheckWindowsName(name string) error {
	var why string
	if !utf8.ValidString(name) {
		why = "not valid UTF-8, which Windows names must be"
	} else if i := strings.IndexFunc(name, notOnWindows); i >= 0 {
		r, _ := utf8.DecodeRuneInString(name[i:])
		why = fmt.Sprintf("contains %q, which Windows does not allow in a name", r)
	} else if strings.HasSuffix(name, ".") {
		why = "ends in a dot, which Windows drops"
	} else if strings.HasSuffix(name, " ") {
		why = "ends in a space, which Windows drops"
	} else if dev := windowsDevice(name); dev != "" {
		why = fmt.Sprintf("names the device %s on Windows, not a file", dev)
	} else {
		return nil
	}
	return fmt.Errorf("%w %q: %s", ErrUnsafeName, name, why)
}

// notOnWindows reports whether Windows refuses r anywhere in a name.
func notOnWindows(r rune) bool {
	return r < 32 || strings.ContainsRune(`<>:"/\|?*`, r)
}

// windowsDevices are the names Windows opens as devices, in upper case.
var windowsDevices = map[string]bool{
	"CON": true, "PRN": true, "AUX": true, "NUL": true, "CONIN$": true, "CONOUT$": true,
	"COM1": true, "COM2": true, "COM3": true, "COM4": true, "COM5": true,
	"COM6": true, "COM7": true, "COM8": true, "COM9": true,
	"COM¹": true, "COM²": true, "COM³": true,
	"LPT1": true, "LPT2": true, "LPT3": true, "LPT4": true, "LPT5": true,
	"LPT6": true, "LPT7": true, "LPT8": true, "LPT9": true,
	"LPT¹": true, "LPT²": true, "LPT³": true,
}

// windowsDevice is the device name names, in upper case, or "" if it
// names none. Windows looks at what comes before the first dot (the
// extension does not count), less trailing spaces, and folds case in
// ASCII only.
func windowsDevice(name string) string {
	base, _, _ := strings.Cut(name, ".")
	base = strings.TrimRight(base, " ")
	up := []byte(base)
	for i, c := range up {
		if 'a' <= c && c <= 'z' {
			up[i] = c - 'a' + 'A'
		}
	}
	if windowsDevices[string(up)] {
		return string(up)
	}
	return ""
}
