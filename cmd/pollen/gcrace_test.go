package main_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// gc through a daemon, again and again, while that daemon runs gets
// (the page's "Free unused space" button makes the same call): every get
// comes out whole, gc never fails, and verify is clean after.
func TestGCRacesGetsThroughTheDaemon(t *testing.T) {
	_, seedAPI := startDaemon(t, t.TempDir())
	auth := map[string]string{"Authorization": "Bearer " + seedAPI.Token}
	src := mixed(t) + "/several-MiB.bin"
	code, share := call(t, "POST", seedAPI.URL+"/api/v1/shares", `{"path": "`+src+`"}`, auth)
	if code != http.StatusOK {
		t.Fatalf("share: %d %v", code, share)
	}
	ticket := share["ticket"].(string)

	repo := t.TempDir()
	_, api := startDaemon(t, repo)
	gauth := map[string]string{"Authorization": "Bearer " + api.Token}
	for round := range 5 {
		out := t.TempDir()
		var wg sync.WaitGroup
		stop := make(chan struct{})
		var gcErr error
		var gcs int
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if code, body := call(t, "POST", api.URL+"/api/v1/gc", "", gauth); code != http.StatusOK {
					gcErr = fmt.Errorf("gc answered %d %v", code, body)
					return
				}
				gcs++
			}
		}()
		g := run(t, repo, "get", ticket, "-o", out)
		close(stop)
		wg.Wait()
		if g.code != 0 {
			t.Fatalf("round %d: get during gc failed:\n%s", round, g.stderr)
		}
		if gcErr != nil {
			t.Fatalf("round %d: %v", round, gcErr)
		}
		sameFile(t, src, filepath.Join(out, "several-MiB.bin"))
		t.Logf("round %d: %d gcs ran during the get", round, gcs)
		// Forget it, so the next round fetches again.
		run(t, repo, "rm", share["cid"].(string)).ok(t)
	}
	v := run(t, repo, "verify").ok(t)
	if !strings.Contains(v.stdout, ": 0 corrupt") {
		t.Errorf("verify after the races:\n%s", v.stdout)
	}
}
