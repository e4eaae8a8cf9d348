package exchange_test

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pollen-p2p/pollen/chunker"
	"github.com/pollen-p2p/pollen/exchange"
)

// A fresh getter (nothing stored before) of a folder holding one file
// twice, in windows far apart: the second copy is found in the store,
// but it was not there before, so the getter does not say it resumes.
func TestHereIsWhatWasHereBefore(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 2<<20)
	rand.Read(data)
	os.Mkdir(filepath.Join(dir, "m"), 0o755)
	for _, f := range []string{"1", "2", "3", "4"} {
		os.WriteFile(filepath.Join(dir, "m", f), []byte("other "+f), 0o644)
	}
	for _, sub := range []string{"a", "z"} {
		os.Mkdir(filepath.Join(dir, sub), 0o755)
		if err := os.WriteFile(filepath.Join(dir, sub, "same.bin"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "z", "extra"), []byte("makes z differ from a"), 0o644)
	seeder, getter := newNode(t), newNode(t)
	res, err := chunker.Import(context.Background(), seeder.bs, dir, chunker.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	connect(t, getter, seeder)
	defer exchange.SetWindow(2)()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var last exchange.Progress
	sink := &planner{bs: getter.bs, waiting: map[string]int{string(res.Root.Hash()): 1}}
	if err := getter.ex.Fetch(ctx, res.Root, exchange.FetchOptions{Sink: sink, Report: func(p exchange.Progress) { last = p }}); err != nil {
		t.Fatal(err)
	}
	t.Logf("done %d of %d, here %d, received %d", last.Done, last.Total, last.Here, last.Received())
	if last.Here > 0 {
		t.Errorf("a fresh get says %d bytes were already here", last.Here)
	}
}
