package main_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// The page's tests, by flow: browser_share_test.go (share, ticket,
// fetch, replace, remove), browser_control_test.go (pause, resume,
// cancel, clear, stall), browser_choose_test.go (choosing files,
// limits), browser_login_test.go (login, headers, restart). This file
// holds what they share.

// browser starts a headless Chromium (Debian's, installed by .ci/run) for
// the page tests. Without one the test is skipped, except when
// POLLEN_REQUIRE_BROWSER is set, as CI sets it.
func browser(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, p := range []string{os.Getenv("POLLEN_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := exec.LookPath(p); err == nil {
				path = p
				break
			}
		}
	}
	if path == "" {
		if os.Getenv("POLLEN_REQUIRE_BROWSER") != "" {
			t.Fatal("no Chromium at /usr/bin/chromium (apt-get install chromium)")
		}
		t.Skip("no Chromium at /usr/bin/chromium; install Debian's chromium to run the page test")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	// The first run starts the browser, and lives as long as its context:
	// no timeout on it; go test's -timeout bounds the test.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// screenshots go to $POLLEN_SCREENSHOTS (CI keeps .ci/out) or a temp dir.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("POLLEN_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "pollen-screenshots")
	}
	os.MkdirAll(dir, 0o755)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err == nil {
		t.Logf("screenshot %s", path)
	}
}

// loggedIn waits until the page shows the node it talks to. It asks
// again when the page reloads under it, as a login link pasted over an
// open page makes it do.
func loggedIn() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		deadline := time.Now().Add(30 * time.Second)
		for {
			ok, err := chromedp.Evaluate[bool](`document.querySelector("#node")?.textContent.startsWith("peer ")`)(ctx, t)
			if ok {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the page shows no node (%v)", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// widths the page is looked at: a phone and a laptop.
var widths = []struct{ w, h int64 }{{390, 844}, {1280, 900}}

// scheme emulates prefers-color-scheme: "light" or "dark".
func scheme(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: name}},
		})
		return err
	})
}

// looks screenshots the page as it stands at each width, light and dark
// (FLOW-390-dark.png, ...), and fails when anything is wider than the
// window: a phone never scrolls sideways. It leaves the page at 1280 px,
// light.
func looks(t *testing.T, ctx context.Context, flow string) {
	t.Helper()
	for _, mode := range []string{"light", "dark"} {
		for _, sz := range widths {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(sz.w, sz.h), scheme(mode), chromedp.Sleep(150*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			over, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.documentElement.scrollWidth - innerWidth"))
			if err != nil || over > 0 {
				t.Errorf("%s at %d px, %s: %d px too wide (%v)", flow, sz.w, mode, over, err)
			}
			screenshot(t, ctx, fmt.Sprintf("%s-%d-%s", flow, sz.w, mode))
		}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), scheme("light")); err != nil {
		t.Fatal(err)
	}
}

// until waits for a script expression to be true on the page.
func until(ctx context.Context, js string) error {
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(45*time.Second)))
	if err != nil {
		return fmt.Errorf("waiting for %s: %w", js, err)
	}
	return nil
}

// nobodyHas is a CID of bytes nobody holds: a get of it looks for
// holders until it is canceled.
func nobodyHas(t *testing.T) string {
	h, err := mh.Sum([]byte(t.Name()+time.Now().String()), mh.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(cid.Raw, h).String()
}
