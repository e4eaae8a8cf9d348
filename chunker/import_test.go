package chunker_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	bstore "github.com/ipfs/boxo/blockstore"
	ds "github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"

	"github.com/pollen-p2p/pollen/chunker"
	"github.com/pollen-p2p/pollen/internal/testdata"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testdata.RemoveShared()
	os.Exit(code)
}

// mixed is the shared mixed test folder (read-only).
var mixed = testdata.Mixed

func memStore() bstore.Blockstore {
	return bstore.NewBlockstore(dssync.MutexWrap(ds.NewMapDatastore()))
}

// Expected root CIDs recorded from Kubo v0.42.0:
// `ipfs init --profile=test,unixfs-v1-2025`, `ipfs add -r -Q --pin=false PATH`.
// With POLLEN_KUBO set to an ipfs binary the test also asks Kubo live.
var kuboMixed = map[string]string{
	"empty.txt":        "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
	"one-byte.bin":     "bafkreiedreox72c4gpsszc2olakmsl5wuo4um4uzeactrjv2xkuliuwype",
	"exactly-1MiB.bin": "bafkreihnlvtnbylwy2btqh4xox5gwzfh7nai4vfxuvnxiwotc3w33nl6um",
	"1MiB-plus-1.bin":  "bafybeicsjrf3dzobhohbjxb4h5hnpleyrf6jsrclpbsugjhg2eaw5q3pb4",
	"several-MiB.bin":  "bafybeign23u6jcd34brxxin5ct7rhrn2zrqvc42aq6ppi6tjlfoipjwciu",
	"nested":           "bafybeibvrtznwxgqxktz7glzlul6tjgqitpsdu4zb7nnxd2bbmnzbjoeta",
	"many":             "bafybeiheisn6n6ixjxwlf2hskmdlppjeehfetldr45apszkp7o4q4yz3qm",
	"link-to-one-byte": "bafybeiakimtguvrbada3frcasmc6l2je2jq7hrhwpu4mski3zllrxcxcly",
	".":                "bafybeiecatufxsbl7lrfhjc3wrk7ezpdwmo76vn4kqbutwz5vypbngoz7a",
}

// kuboBigFile is Kubo's CID for testdata.WriteFile(path, 99, 1025 MiB + 7):
// 1026 chunks, so the balanced layout needs a second level.
const (
	kuboBigFile = "bafybeicqtfi3i6kkvadz3pnhz4mfhueg3rbb4ztzuggcxzmo4fup2k4fe4"
	bigFileSize = 1025*testdata.MiB + 7
	bigFileSeed = 99
)

func TestImportMatchesKubo(t *testing.T) {
	dir := mixed(t)
	for name, want := range kuboMixed {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			res, err := chunker.Import(context.Background(), memStore(), path, chunker.ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Root.String(); got != want {
				t.Errorf("root of %s = %s, Kubo says %s", name, got, want)
			}
			if live := kuboAdd(t, path); live != "" && live != res.Root.String() {
				t.Errorf("root of %s = %s, live Kubo says %s", name, res.Root, live)
			}
		})
	}
}

func TestImportHiddenSkippedAndCounted(t *testing.T) {
	dir := mixed(t)
	res, err := chunker.Import(context.Background(), memStore(), dir, chunker.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.SkippedHidden != 1 {
		t.Errorf("skipped %d hidden entries, want 1", res.SkippedHidden)
	}
	withHidden, err := chunker.Import(context.Background(), memStore(), dir, chunker.ImportOptions{Hidden: true})
	if err != nil {
		t.Fatal(err)
	}
	if withHidden.Root == res.Root || withHidden.SkippedHidden != 0 {
		t.Errorf("--hidden gave root %s (skipped %d), same as without", withHidden.Root, withHidden.SkippedHidden)
	}
}

func TestImportFileOfMoreThan1024Chunks(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 1 GiB file")
	}
	path := filepath.Join(t.TempDir(), "big.bin")
	if err := testdata.WriteFile(path, bigFileSeed, bigFileSize); err != nil {
		t.Fatal(err)
	}
	res, err := chunker.Import(context.Background(), discardStore{}, path, chunker.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Root.String() != kuboBigFile {
		t.Errorf("root = %s, Kubo says %s", res.Root, kuboBigFile)
	}
	if res.Size != bigFileSize {
		t.Errorf("size = %d, want %d", res.Size, bigFileSize)
	}
}

// kuboAdd asks a live Kubo (POLLEN_KUBO=path/to/ipfs) for the root CID of
// path, or returns "" when none is configured.
func kuboAdd(t *testing.T, path string) string {
	t.Helper()
	bin := os.Getenv("POLLEN_KUBO")
	if bin == "" {
		return ""
	}
	repo := filepath.Join(t.TempDir(), "kubo")
	env := append(os.Environ(), "IPFS_PATH="+repo)
	init := exec.Command(bin, "init", "--profile=test,unixfs-v1-2025")
	init.Env = env
	if out, err := init.CombinedOutput(); err != nil {
		t.Fatalf("ipfs init: %v\n%s", err, out)
	}
	add := exec.Command(bin, "add", "-r", "-Q", "--pin=false", path)
	add.Env = env
	out, err := add.Output()
	if err != nil {
		t.Fatalf("ipfs add %s: %v", path, err)
	}
	return strings.TrimSpace(string(out))
}

// TestImportedBlocksStayIntact imports a folder of several multi-chunk
// files into a store that keeps the slices it is given, as boxo's map
// datastore does, then checks that every stored block still hashes to its
// CID: the importer must never reuse a buffer it handed to the store.
func TestImportedBlocksStayIntact(t *testing.T) {
	dir := t.TempDir()
	for i := range 12 {
		p := filepath.Join(dir, fmt.Sprintf("f%02d.bin", i))
		if err := testdata.WriteFile(p, uint64(i), 2*testdata.MiB+1); err != nil {
			t.Fatal(err)
		}
	}
	st := memStore()
	if _, err := chunker.Import(context.Background(), st, dir, chunker.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	keys, err := st.AllKeysChan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for c := range keys {
		b, err := st.Get(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := c.Prefix().Sum(b.RawData()); err != nil || !got.Equals(c) {
			t.Errorf("block %s changed after it was stored (hashes to %s)", c, got)
		}
		n++
	}
	if n < 36 {
		t.Errorf("store holds %d blocks, want at least 36", n)
	}
}
