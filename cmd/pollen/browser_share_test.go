package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pollen-p2p/pollen/ui"
)

// TestPageSharesAndFetches walks a share from one page to another: the
// share shows its progress and cannot be sent twice, its ticket is text
// and a QR code, the copy button tells the truth, the fetch goes to a
// folder the person chose, a second fetch over other files asks before
// it replaces them, and a share can be removed (after asking).
func TestPageSharesAndFetches(t *testing.T) {
	ctx := browser(t)
	a, apiA := startDaemon(t, t.TempDir())
	downloads := t.TempDir()
	b, _ := startDaemonArgs(t, t.TempDir(), "--downloads", downloads)
	src := mixed(t) + "/several-MiB.bin"

	// Submitted twice in a row, the form shares once.
	copyButton := chromedp.CSS("#shares tbody tr button.copy")
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.page),
		chromedp.WaitVisible(chromedp.CSS("#share-form")),
		loggedIn(),
	)
	if err == nil {
		// Pasted with spaces around it; submitted twice before any answer.
		path, _ := json.Marshal("  " + src + "\n")
		_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
			document.querySelector("#share-path").value = `+string(path)+`;
			const f = document.querySelector("#share-form");
			f.requestSubmit();
			f.requestSubmit();
			return document.querySelector("#share-go").disabled;
		})()`))
	}
	if err == nil {
		err = chromedp.Do(ctx,
			chromedp.WaitVisible(chromedp.CSS(`.transfer[data-kind="add"][data-state="done"]`)),
			chromedp.WaitVisible(copyButton),
		)
	}
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.transfer[data-kind="add"]').length`)); n != 1 {
		t.Errorf("the share form submitted twice made %d adds", n)
	}
	if off, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("#share-go").disabled`)); off {
		t.Error("the share button stays off after the share")
	}
	ticket, err := chromedp.Run(ctx, chromedp.AttributeValue(copyButton, "data-ticket"))
	if err != nil || !strings.HasPrefix(ticket.Value, "pollen1") {
		t.Fatalf("ticket from the page: %q (%v)", ticket.Value, err)
	}

	// The ticket as text and as a QR code; "copied" only if it was.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#shares tbody tr button.show-ticket")),
		chromedp.WaitVisible(chromedp.CSS("tr.ticket-row img.qr")),
	)
	if err == nil {
		err = until(ctx, `document.querySelector("tr.ticket-row img.qr").naturalWidth > 0`)
	}
	if err != nil {
		t.Fatalf("the ticket's QR code: %v", err)
	}
	if shown, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("textarea.ticket").value`)); shown != ticket.Value {
		t.Errorf("the ticket's text is %q", shown)
	}
	if err := chromedp.Do(ctx, chromedp.Click(copyButton)); err != nil {
		t.Fatal(err)
	}
	if err := until(ctx, `!!document.querySelector("#shares tbody tr button.copy").dataset.copied`); err != nil {
		t.Fatal(err)
	}
	honest, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => {
		const b = document.querySelector("#shares tbody tr button.copy"), ta = document.querySelector("textarea.ticket");
		if (b.dataset.copied === "yes") return b.textContent === "Copied" ? "ok" : "copied, says " + b.textContent;
		return document.activeElement === ta && ta.selectionEnd - ta.selectionStart === ta.value.length && document.querySelector("#message").textContent.includes("Ctrl-C") ? "ok" : "not copied, not selected";
	})()`))
	if honest != "ok" {
		t.Errorf("the copy button: %s", honest)
	}
	looks(t, ctx, "share")

	// Fetched into the folder the person names.
	chosen := t.TempDir()
	done := chromedp.CSS(`.transfer[data-state="done"]`)
	err = chromedp.Do(ctx,
		chromedp.Navigate(b.page),
		chromedp.WaitVisible(chromedp.CSS("#get-form")),
		chromedp.SendKeys(chromedp.CSS("#get-ref"), ticket.Value),
		chromedp.SendKeys(chromedp.CSS("#get-dir"), chosen),
		chromedp.Click(chromedp.CSS("#get-go")),
		chromedp.WaitVisible(done),
	)
	if err != nil {
		t.Fatal(err)
	}
	if bar, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('.transfer[data-state="done"] [role=progressbar]').getAttribute("aria-valuenow")`)); bar != "100" {
		t.Errorf("progress bar at %q when done", bar)
	}
	sameFile(t, src, filepath.Join(chosen, "several-MiB.bin"))
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.Search(`//table[@id="peers"]//td[text()="direct"]`))); err != nil {
		t.Error(err)
	}
	looks(t, ctx, "fetched")

	// It opens through the daemon's gateway, logged in by the page's cookie.
	_, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`fetch(document.querySelector('.transfer[data-state="done"] a.open').href)
		.then((r) => r.ok ? r.arrayBuffer() : Promise.reject(r.status))
		.then((b) => { window.openedBytes = b.byteLength; }, () => { window.openedBytes = -1; }); true`))
	if err == nil {
		err = until(ctx, "window.openedBytes !== undefined")
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int]("window.openedBytes")); err != nil || int64(n) != fileSize(t, src) {
		t.Errorf("opened %d bytes through the gateway (%v), want %d", n, err, fileSize(t, src))
	}

	// Diagnose says how this node is reached and who holds the content.
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#doctor-ref"), ticket.Value),
		chromedp.Click(chromedp.CSS("#doctor-form button")),
		chromedp.WaitVisible(chromedp.CSS(`#doctor[data-verdict="here"]`)),
	)
	facts, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#doctor")))
	if err != nil || !strings.Contains(facts, "Reachability") || !strings.Contains(facts, "this node's store") {
		t.Errorf("the page's diagnosis: %q (%v)", facts, err)
	}

	// A bad ticket gets a readable message.
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#get-ref"), "pollen1garbage"),
		chromedp.Click(chromedp.CSS("#get-go")),
		chromedp.WaitVisible(chromedp.CSS("#message")),
	)
	msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#message")))
	if err != nil || !strings.Contains(msg, "bad ticket") {
		t.Errorf("bad ticket message %q (%v)", msg, err)
	}
	chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#get-ref").value = ""`))

	// Other bytes in the way: the page asks, and replaces when told to.
	if err := os.WriteFile(filepath.Join(chosen, "several-MiB.bin"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#get-ref"), ticket.Value),
		chromedp.Click(chromedp.CSS("#get-go")),
		chromedp.WaitVisible(chromedp.CSS("#ask[open]")),
	)
	if err != nil {
		t.Fatal(err)
	}
	question, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#ask-text")))
	if !strings.HasPrefix(question, "Replace the files in "+chosen) {
		t.Errorf("the page asks %q", question)
	}
	if b, _ := os.ReadFile(filepath.Join(chosen, "several-MiB.bin")); string(b) != "mine" {
		t.Fatal("replaced before the answer")
	}
	looks(t, ctx, "replace-ask")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#ask-yes")),
		chromedp.WaitVisible(chromedp.CSS(`.transfer[data-state="done"]:first-child`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, src, filepath.Join(chosen, "several-MiB.bin"))
	if _, err := os.Stat(filepath.Join(downloads, "several-MiB.bin")); err == nil {
		t.Error("a get with a folder chosen wrote to the downloads folder too")
	}

	// Removing a share asks first, then the daemon forgets it. A's
	// session outlived B's login: cookies ignore the port, their names
	// do not.
	err = chromedp.Do(ctx,
		chromedp.Navigate(apiA.URL+"/"),
		loggedIn(),
		chromedp.WaitVisible(chromedp.CSS("#shares tbody tr button.remove")),
		chromedp.Click(chromedp.CSS("#shares tbody tr button.remove")),
		chromedp.WaitVisible(chromedp.CSS("#ask[open]")),
		chromedp.Click(chromedp.CSS("#ask-yes")),
		chromedp.WaitNotPresent(chromedp.CSS("#shares tbody tr button.remove")),
	)
	if err != nil {
		t.Fatal(err)
	}
	var shares []ui.Share
	apiGet(t, apiA, "/api/v1/shares", &shares)
	if len(shares) != 0 {
		t.Errorf("after removing on the page the daemon shares %v", shares)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
