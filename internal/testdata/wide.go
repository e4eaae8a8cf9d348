package testdata

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// Wide makes, in a new temporary folder, folders of files small files
// each ("dNN/fNNN", every file's content its own): a tree whose width,
// not depth, a walk must not hold whole.
func Wide(t testing.TB, folders, files int) string {
	t.Helper()
	root := t.TempDir()
	for i := range folders {
		sub := filepath.Join(root, fmt.Sprintf("d%02d", i))
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for k := range files {
			data := fmt.Sprintf("file %d of folder %d\n", k, i)
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%03d", k)), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}
