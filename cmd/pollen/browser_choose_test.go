package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/pollen-p2p/pollen/internal/testdata"
)

// TestPageChoosesFilesAndLimits: the page lists a share's tree from a
// ticket, and a get of the one file chosen fetches that file alone,
// whose name holds glob characters; the page shows and sets the limits;
// it fits a phone's 390 px.
func TestPageChoosesFilesAndLimits(t *testing.T) {
	ctx := browser(t)
	_, apiA := startDaemon(t, t.TempDir())
	downloads := t.TempDir()
	b, apiB := startDaemonArgs(t, t.TempDir(), "--downloads", downloads)
	src := filepath.Join(t.TempDir(), "pair")
	const chosen, other = "two [x]*.bin", "one.bin"
	os.MkdirAll(src, 0o755)
	if err := testdata.WriteFile(filepath.Join(src, other), 1, 3*testdata.MiB); err != nil {
		t.Fatal(err)
	}
	if err := testdata.WriteFile(filepath.Join(src, chosen), 2, 2*testdata.MiB+5); err != nil {
		t.Fatal(err)
	}
	code, sh := call(t, "POST", apiA.URL+"/api/v1/shares", `{"path": "`+src+`"}`, map[string]string{"Authorization": "Bearer " + apiA.Token})
	if code != http.StatusOK {
		t.Fatalf("share: %d %v", code, sh)
	}

	box := chromedp.CSS(`#chooser-tree input[data-path="` + chosen + `"]`)
	done := chromedp.CSS(`.transfer[data-state="done"]`)
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(b.page),
		chromedp.WaitVisible(chromedp.CSS("#get-form")),
		chromedp.SendKeys(chromedp.CSS("#get-ref"), sh["ticket"].(string)),
		chromedp.Click(chromedp.CSS("#choose")),
		chromedp.WaitVisible(box),
	)
	screenshot(t, ctx, "choose-listed")
	if err != nil {
		t.Fatal(err)
	}
	picked := func() string {
		v, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#chooser-total").dataset.bytes`))
		return v
	}
	if got := picked(); got != fmt.Sprint(5*testdata.MiB+5) {
		t.Errorf("selected at first: %q bytes, want all", got)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#chooser-none")),
		chromedp.Click(box),
	)
	if err != nil {
		t.Fatal(err)
	}
	shownTotal, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#chooser-total")))
	screenshot(t, ctx, "choose-picked")
	if got := picked(); got != fmt.Sprint(2*testdata.MiB+5) || !strings.Contains(shownTotal, "1 file") {
		t.Errorf("selected: %q bytes, %q", got, shownTotal)
	}
	if wide, _ := chromedp.Run(ctx, chromedp.Evaluate[int]("document.documentElement.scrollWidth")); wide > 390 {
		t.Errorf("the page is %d px wide at 390", wide)
	}
	err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#chooser-get")), chromedp.WaitVisible(done))
	screenshot(t, ctx, "choose-fetched")
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, filepath.Join(src, chosen), filepath.Join(downloads, "pair", chosen))
	if _, err := os.Stat(filepath.Join(downloads, "pair", other)); err == nil {
		t.Errorf("%s arrived too", other)
	}
	var list []struct{ Total int64 }
	req, _ := http.NewRequest("GET", apiB.URL+"/api/v1/transfers", nil)
	req.Header.Set("Authorization", "Bearer "+apiB.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	// The total is the file's blocks and the few nodes above them: the
	// folder's, and each file's top node.
	if len(list) != 1 || list[0].Total < 2*testdata.MiB+5 || list[0].Total > 2*testdata.MiB+5+4096 {
		t.Errorf("transfers %+v, want one of the file's %d bytes and its folder's few hundred", list, 2*testdata.MiB+5)
	}

	// The limits: set on the page, taken by the daemon, shown back.
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#limit-up"), "4 Mbit"),
		chromedp.SetValue(chromedp.CSS("#limit-peer-up"), "512 KiB"),
		chromedp.Click(chromedp.CSS("#limits-form button")),
		chromedp.WaitVisible(chromedp.CSS(`#limits-form[data-up="500000"][data-peer-up="524288"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#limits-now[data-up]`)),
	)
	screenshot(t, ctx, "limits-set")
	if err != nil {
		t.Fatal(err)
	}
	code, lim := call(t, "GET", apiB.URL+"/api/v1/limits", "", map[string]string{"Authorization": "Bearer " + apiB.Token})
	if code != http.StatusOK || lim["up"] != float64(500000) || lim["down"] != float64(0) || lim["peer_up"] != float64(524288) {
		t.Errorf("the daemon's limits after the page set them: %d %v", code, lim)
	}
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS("#limit-down"), "fast"),
		chromedp.Click(chromedp.CSS("#limits-form button")),
		chromedp.WaitVisible(chromedp.CSS("#message")),
	)
	msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#message")))
	if err != nil || !strings.Contains(msg, "not a rate") {
		t.Errorf("a bad rate on the page: %q (%v)", msg, err)
	}
}
