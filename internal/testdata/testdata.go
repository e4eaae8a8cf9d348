// Package testdata writes the deterministic folders and files that pollen's
// tests and benchmarks import, so every test (and Kubo, for the expected
// CIDs) sees the same bytes.
package testdata

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// MiB is one mebibyte.
const MiB = 1 << 20

// HAMTEntries is how many files the "many" folder of MixedFolder holds:
// enough for its dag-pb block to pass 256 KiB, so it becomes a HAMT shard.
const HAMTEntries = 5000

// Reader returns n deterministic pseudo-random bytes for seed.
func Reader(seed uint64, n int64) io.Reader {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	return io.LimitReader(rand.NewChaCha8(s), n)
}

// WriteFile writes n deterministic bytes for seed to path.
func WriteFile(path string, seed uint64, n int64) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, Reader(seed, n)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// MixedFolder writes the folder the CID tests compare with Kubo: an empty
// file, one byte, exactly 1 MiB, 1 MiB + 1, several MiB, nested folders,
// names with spaces and non-ASCII letters, an empty folder, a symlink, a
// hidden file, and a folder big enough to be a HAMT shard.
func MixedFolder(root string) error { return MixedFolderN(root, HAMTEntries) }

// MixedFolderN is MixedFolder with n entries in "many" (a plain folder
// below about 4,400).
func MixedFolderN(root string, n int) error {
	files := []struct {
		name string
		size int64
	}{
		{"empty.txt", 0},
		{"one-byte.bin", 1},
		{"exactly-1MiB.bin", MiB},
		{"1MiB-plus-1.bin", MiB + 1},
		{"several-MiB.bin", 5*MiB + 12345},
		{"name with spaces.txt", 100},
		{"ünïcødé 日本語.txt", 2000},
		{"nested/level 2/level3/deep.bin", 3 * MiB / 2},
		{"nested/level 2/small.txt", 10},
		{".hidden-file", 42},
	}
	for i, f := range files {
		if err := WriteFile(filepath.Join(root, f.name), uint64(i+1), f.size); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "empty folder"), 0o755); err != nil {
		return err
	}
	if err := os.Symlink("one-byte.bin", filepath.Join(root, "link-to-one-byte")); err != nil {
		return err
	}
	many := filepath.Join(root, "many")
	if err := os.MkdirAll(many, 0o755); err != nil {
		return err
	}
	for i := range n {
		name := filepath.Join(many, fmt.Sprintf("entry-%05d.txt", i))
		if err := os.WriteFile(name, fmt.Appendf(nil, "entry %d\n", i), 0o644); err != nil {
			return err
		}
	}
	return nil
}

var shared struct {
	sync.Once
	dir string
	err error
}

// SharedMixed writes MixedFolder once per test binary, in a temporary
// folder, and returns its path. Callers must not change it; a TestMain
// calls RemoveShared at the end.
func SharedMixed() (string, error) {
	shared.Do(func() {
		d, err := os.MkdirTemp("", "pollen-mixed-")
		if err != nil {
			shared.err = err
			return
		}
		shared.dir = filepath.Join(d, "mixed")
		shared.err = MixedFolder(shared.dir)
	})
	return shared.dir, shared.err
}

// Mixed is SharedMixed for tests: it fails t on error.
func Mixed(t testing.TB) string {
	t.Helper()
	dir, err := SharedMixed()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// RemoveShared deletes what SharedMixed wrote.
func RemoveShared() {
	if shared.dir != "" {
		os.RemoveAll(filepath.Dir(shared.dir))
	}
}
