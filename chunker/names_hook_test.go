package chunker

import (
	"runtime"
	"testing"
)

// UseWindowsNames makes CheckName, and so every export, apply Windows'
// rules on names until t ends, as the Windows build always does. Tests
// that call it must not run in parallel with others.
func UseWindowsNames(t testing.TB) {
	old := nameRules
	nameRules = systemNameRules("windows")
	t.Cleanup(func() { nameRules = old })
}

// The Windows build checks names with CheckWindowsName, every other
// build with none beyond CheckName's own.
func TestSystemNameRules(t *testing.T) {
	if err := systemNameRules("windows")("nul.txt"); err == nil {
		t.Error(`Windows' rules let "nul.txt" through`)
	}
	for _, goos := range []string{"linux", "darwin", "freebsd"} {
		if systemNameRules(goos) != nil {
			t.Errorf("%s has name rules of its own", goos)
		}
	}
	if err := CheckName("nul.txt"); (err == nil) == (runtime.GOOS == "windows") {
		t.Errorf(`on %s CheckName("nul.txt") = %v`, runtime.GOOS, err)
	}
}
