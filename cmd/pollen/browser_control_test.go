package main_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pollen-p2p/pollen/ui"
)

// TestPageControlsTransfers: a get with no holder says it is looking for
// them; a running get pauses and resumes from its buttons, shows
// "stalled" in words when its sharer stops, cancels, and the finished
// ones clear from the list.
func TestPageControlsTransfers(t *testing.T) {
	ctx := browser(t)
	seeder, _ := slowSeeder(t, 48)
	d, api := startDaemonArgs(t, t.TempDir(), "--downloads", t.TempDir())

	// A CID nobody has: looking, not "0 B of 0 B".
	err := chromedp.Do(ctx,
		chromedp.Navigate(d.page),
		chromedp.WaitVisible(chromedp.CSS("#get-form")),
		chromedp.SendKeys(chromedp.CSS("#get-ref"), nobodyHas(t)),
		chromedp.Click(chromedp.CSS("#get-go")),
		chromedp.WaitVisible(chromedp.CSS(`.transfer[data-state="running"] .line`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := until(ctx, `document.querySelector('.transfer[data-state="running"] .line').textContent.startsWith("looking for holders")`); err != nil {
		line, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.transfer[data-state="running"] .line`)))
		t.Errorf("a get with no holder says %q (%v)", line, err)
	}
	looks(t, ctx, "looking")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`.transfer[data-state="running"] button.cancel`)),
		chromedp.WaitVisible(chromedp.CSS(`.transfer[data-state="canceled"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}

	// Pause and resume from the page.
	running := chromedp.CSS(`.transfer[data-state="running"] button.pause`)
	paused := chromedp.CSS(`.transfer[data-state="paused"] button.resume`)
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#get-ref"), seeder.ticket),
		chromedp.Click(chromedp.CSS("#get-go")),
		chromedp.WaitVisible(running),
	)
	if err == nil {
		err = until(ctx, `+document.querySelector('.transfer[data-state="running"]').dataset.pct > 0`)
	}
	if err == nil {
		err = chromedp.Do(ctx, chromedp.Click(running), chromedp.WaitVisible(paused))
	}
	if err != nil {
		t.Fatal(err)
	}
	word, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.transfer[data-state="paused"] .state`)))
	if word != "paused" {
		t.Errorf("a paused transfer says %q", word)
	}
	looks(t, ctx, "paused")
	var list []ui.Transfer
	apiGet(t, api, "/api/v1/transfers", &list)
	if len(list) != 2 || list[1].State != "paused" {
		t.Fatalf("after the pause button, the daemon has %+v", list)
	}

	// The sharer stops: the get says "stalled", in words, within
	// seconds, not a frozen rate.
	err = chromedp.Do(ctx, chromedp.Click(paused), chromedp.WaitVisible(running))
	if err == nil {
		err = until(ctx, `+document.querySelector('.transfer[data-state="running"]').dataset.pct > 10`)
	}
	if err != nil {
		t.Fatal(err)
	}
	seeder.stop()
	if err := until(ctx, `document.querySelector('.transfer[data-stalled="yes"] .state')?.textContent === "stalled"`); err != nil {
		line, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.transfer[data-state="running"]`)))
		t.Fatalf("the sharer gone: the page shows %q (%v)", line, err)
	}
	line, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.transfer[data-stalled="yes"] .line`)))
	if !strings.HasPrefix(line, "stalled") || strings.Contains(line, "/s") {
		t.Errorf("a stalled get says %q", line)
	}
	looks(t, ctx, "stalled")

	// Cancel, then clear what ended.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`.transfer[data-stalled="yes"] button.cancel`)),
		chromedp.WaitNotPresent(chromedp.CSS(`.transfer[data-state="running"]`)),
		chromedp.Click(chromedp.CSS("#clear-ended")),
		chromedp.WaitNotPresent(chromedp.CSS(".transfer")),
	)
	if err != nil {
		t.Fatal(err)
	}
	apiGet(t, api, "/api/v1/transfers", &list)
	if len(list) != 0 {
		t.Errorf("after clearing, the daemon lists %+v", list)
	}
}
