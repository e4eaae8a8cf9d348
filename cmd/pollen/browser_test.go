package main_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

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

func pageURL(api apiInfo) string { return api.URL + "/#token=" + api.Token }

func TestPageSharesAndFetches(t *testing.T) {
	ctx := browser(t)
	_, apiA := startDaemon(t, t.TempDir())
	downloads := t.TempDir()
	repoB := t.TempDir()
	_, apiB := startDaemonArgs(t, repoB, "--downloads", downloads)
	src := mixed(t) + "/several-MiB.bin"

	copyButton := chromedp.CSS("#shares tbody tr button.copy")
	err := chromedp.Do(ctx,
		chromedp.Navigate(pageURL(apiA)),
		chromedp.WaitVisible(chromedp.CSS("#share-form")),
		chromedp.SendKeys(chromedp.CSS("#share-path"), src),
		chromedp.Click(chromedp.CSS("#share-form button")),
		chromedp.WaitVisible(copyButton),
		chromedp.Click(copyButton),
	)
	if err != nil {
		t.Fatal(err)
	}
	ticket, err := chromedp.Run(ctx, chromedp.AttributeValue(copyButton, "data-ticket"))
	screenshot(t, ctx, "a-shared")
	if err != nil || !strings.HasPrefix(ticket.Value, "pollen1") {
		t.Fatalf("ticket from the page: %q (%v)", ticket.Value, err)
	}

	done := chromedp.CSS(`.transfer[data-state="done"]`)
	err = chromedp.Do(ctx,
		chromedp.Navigate(pageURL(apiB)),
		chromedp.WaitVisible(chromedp.CSS("#get-form")),
		chromedp.SendKeys(chromedp.CSS("#get-ref"), ticket.Value),
		chromedp.Click(chromedp.CSS("#get-form button")),
		chromedp.WaitVisible(done),
	)
	screenshot(t, ctx, "b-fetched")
	if err != nil {
		t.Fatal(err)
	}
	pct, err := chromedp.Run(ctx, chromedp.AttributeValue(done, "data-pct"))
	if err != nil || pct.Value != "100" {
		t.Errorf("progress bar at %q%% when done (%v)", pct.Value, err)
	}
	sameFile(t, src, filepath.Join(downloads, "several-MiB.bin"))

	// A bad ticket gets a readable message on the page.
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#get-ref"), "pollen1garbage"),
		chromedp.Click(chromedp.CSS("#get-form button")),
		chromedp.WaitVisible(chromedp.CSS("#message")),
	)
	msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#message")))
	screenshot(t, ctx, "b-bad-ticket")
	if err != nil || !strings.Contains(msg, "bad ticket") {
		t.Errorf("bad ticket message %q (%v)", msg, err)
	}
}
