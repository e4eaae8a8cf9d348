package main_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pollen-p2p/pollen/internal/kubo"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

// startKubo runs a Kubo daemon on loopback for the test.
func startKubo(t *testing.T) *kubo.Node {
	t.Helper()
	k, err := kubo.Init(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Stop)
	return k
}

// interopFolder is the mixed folder with a plain "many" folder: Kubo's
// `ipfs get` walks a DAG a block at a time (about 50 blocks a second here),
// so the 5,000-entry HAMT would take minutes; its CID is checked against
// Kubo in the chunker tests.
func interopFolder(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "interop")
	if err := testdata.MixedFolderN(dir, 50); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestKuboFetchesFromPollen(t *testing.T) {
	k := startKubo(t)
	src := interopFolder(t)
	s := startServer(t, t.TempDir(), "share", src)
	if _, err := k.Run("swarm", "connect", s.addrs[0]); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "from-pollen")
	if _, err := k.Run("get", s.cid, "-o", out); err != nil {
		t.Fatal(err)
	}
	assertSameTree(t, src, out, ".hidden-file")
	if sent := s.stop(); sent == 0 {
		t.Error("pollen says it sent nothing to Kubo")
	}
}

func TestPollenFetchesFromKubo(t *testing.T) {
	k := startKubo(t)
	src := interopFolder(t)
	root, err := k.Run("add", "-r", "-Q", src)
	if err != nil {
		t.Fatal(err)
	}
	root = strings.TrimSpace(root)
	addrs, err := k.Addrs()
	if err != nil || len(addrs) == 0 {
		t.Fatalf("Kubo addresses: %v %v", addrs, err)
	}
	out := t.TempDir()
	r := run(t, t.TempDir(), append([]string{"get", root, "-o", out, "--from", addrs[0], "--timeout", "30s"}, isolated...)...).ok(t)
	if !strings.Contains(r.stderr, "from 1 peer") {
		t.Errorf("get did not say Kubo sent the blocks:\n%s", r.stderr)
	}
	assertSameTree(t, src, filepath.Join(out, root), ".hidden-file")
}
