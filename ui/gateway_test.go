package ui_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/pollen-p2p/pollen"
	"github.com/pollen-p2p/pollen/internal/testdata"
	"github.com/pollen-p2p/pollen/ui"
)

// gatewayGet asks the API's gateway for path, with the token unless
// anonymous, and returns the status and body.
func gatewayGet(t *testing.T, url, path string, hdr map[string]string) (int, []byte, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", url+path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

// TestGateway: files by path, a byte range, a folder's listing, a raw
// block and a CAR, behind the API's credentials.
func TestGateway(t *testing.T) {
	node, _ := onlineNode(t, "hello")
	src := filepath.Join(t.TempDir(), "album")
	if err := testdata.WriteFile(filepath.Join(src, "song one.mp3"), 3, 3<<20+5); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(src, "notes.txt"), []byte("liner notes"), 0o644)
	res, err := node.Add(t.Context(), src, pollen.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, srv := serveAPI(t, &ui.API{Node: node, Token: "secret"})
	auth := map[string]string{"Authorization": "Bearer secret"}
	root := "/ipfs/" + res.Root.String()

	if code, _, _ := gatewayGet(t, srv.URL, root+"/notes.txt", nil); code != http.StatusUnauthorized {
		t.Errorf("without the token: %d", code)
	}
	if code, b, _ := gatewayGet(t, srv.URL, root+"/notes.txt", auth); code != 200 || string(b) != "liner notes" {
		t.Errorf("a file: %d %q", code, b)
	}
	want, _ := os.ReadFile(filepath.Join(src, "song one.mp3"))
	rng := map[string]string{"Authorization": "Bearer secret", "Range": "bytes=2097150-2097160"}
	if code, b, _ := gatewayGet(t, srv.URL, root+"/song%20one.mp3", rng); code != http.StatusPartialContent || !bytes.Equal(b, want[2097150:2097161]) {
		t.Errorf("a range: %d, %d bytes", code, len(b))
	}
	if code, b, _ := gatewayGet(t, srv.URL, root+"/", auth); code != 200 || !bytes.Contains(b, []byte("song one.mp3")) {
		t.Errorf("a listing: %d %.200s", code, b)
	}
	if code, b, h := gatewayGet(t, srv.URL, root+"?format=raw", auth); code != 200 || h.Get("Content-Type") != "application/vnd.ipld.raw" || len(b) == 0 {
		t.Errorf("raw: %d %s", code, h.Get("Content-Type"))
	}
	code, b, h := gatewayGet(t, srv.URL, root+"?format=car", auth)
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/vnd.ipld.car") {
		t.Fatalf("car: %d %s", code, h.Get("Content-Type"))
	}
	other := openOnline(t)
	if imp, err := other.ImportCAR(t.Context(), bytes.NewReader(b)); err != nil || len(imp.Roots) != 1 {
		t.Errorf("the gateway's CAR imports as %+v, %v", imp, err)
	}
}

// TestGatewayStreamsWhileFetching: a node that holds nothing of a 64 MiB
// file answers a range in its middle from a peer that has it, fetching
// that part (and a little ahead), not the file.
func TestGatewayStreamsWhileFetching(t *testing.T) {
	sharer := openOnline(t)
	src := filepath.Join(t.TempDir(), "film.mkv")
	if err := testdata.WriteFile(src, 7, 64<<20); err != nil {
		t.Fatal(err)
	}
	res, err := sharer.Share(t.Context(), src, pollen.AddOptions{})
	if err != nil {
		t.Fatal(err)
	}
	viewer := openOnline(t)
	if err := viewer.Connect(t.Context(), sharer.AddrInfo()); err != nil {
		t.Fatal(err)
	}
	_, srv := serveAPI(t, &ui.API{Node: viewer, Token: "secret"})
	want, _ := os.ReadFile(src)
	begin := time.Now()
	hdr := map[string]string{"Authorization": "Bearer secret", "Range": "bytes=33554432-34603007"} // 1 MiB at 32 MiB
	code, b, _ := gatewayGet(t, srv.URL, "/ipfs/"+res.Root.String(), hdr)
	if code != http.StatusPartialContent || !bytes.Equal(b, want[32<<20:33<<20]) {
		t.Fatalf("a range of a file not here: %d, %d bytes", code, len(b))
	}
	got := viewer.Traffic()[sharer.ID()].Received
	t.Logf("1 MiB at 32 MiB of 64 MiB in %s: received %d bytes", time.Since(begin).Round(time.Millisecond), got)
	// boxo's file reader reads about ten blocks ahead of the range.
	if got > 16<<20 {
		t.Errorf("received %d bytes for 1 MiB of a 64 MiB file", got)
	}
}

// openOnline opens a node on loopback with its network started.
func openOnline(t *testing.T) *pollen.Node {
	t.Helper()
	n, err := pollen.Open(t.TempDir(), pollen.Config{
		Listen: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")}, Offline: true, NoMDNS: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	if err := n.StartNetwork(); err != nil {
		t.Fatal(err)
	}
	return n
}
