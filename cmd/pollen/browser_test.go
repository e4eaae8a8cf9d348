package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/pollen-p2p/pollen/internal/testdata"
	"github.com/pollen-p2p/pollen/ui"
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

func TestPageSharesAndFetches(t *testing.T) {
	ctx := browser(t)
	a, apiA := startDaemon(t, t.TempDir())
	downloads := t.TempDir()
	repoB := t.TempDir()
	b, _ := startDaemonArgs(t, repoB, "--downloads", downloads)
	src := mixed(t) + "/several-MiB.bin"

	copyButton := chromedp.CSS("#shares tbody tr button.copy")
	err := chromedp.Do(ctx,
		chromedp.Navigate(a.page),
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
		chromedp.Navigate(b.page),
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

	// The peers table names each connection's kind; Diagnose says how
	// this node is reached and who holds a ticket's content.
	err = chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.Search(`//table[@id="peers"]//td[text()="direct"]`)),
		chromedp.SendKeys(chromedp.CSS("#doctor-ref"), ticket.Value),
		chromedp.Click(chromedp.CSS("#doctor-form button")),
		chromedp.WaitVisible(chromedp.CSS(`#doctor[data-verdict="here"]`)),
	)
	facts, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#doctor")))
	screenshot(t, ctx, "b-diagnosed")
	if err != nil || !strings.Contains(facts, "Reachability") || !strings.Contains(facts, "this node's store") {
		t.Errorf("the page's diagnosis: %q (%v)", facts, err)
	}

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

	// B's login left A's session alone: cookies ignore the port, their
	// names do not.
	if err := chromedp.Do(ctx, chromedp.Navigate(apiA.URL+"/"), loggedIn()); err != nil {
		t.Errorf("A's page after logging in to B: %v", err)
	}
}

// TestPagePausesAndResumes presses a running get's pause button, sees the
// state said in words, then presses resume and sees the file arrive.
func TestPagePausesAndResumes(t *testing.T) {
	ctx := browser(t)
	seeder, src := slowSeeder(t, 16)
	downloads := t.TempDir()
	d, api := startDaemonArgs(t, t.TempDir(), "--downloads", downloads)

	running := chromedp.CSS(`.transfer[data-state="running"] button.pause`)
	paused := chromedp.CSS(`.transfer[data-state="paused"] button.resume`)
	err := chromedp.Do(ctx,
		chromedp.Navigate(d.page),
		chromedp.WaitVisible(chromedp.CSS("#get-form")),
		chromedp.SendKeys(chromedp.CSS("#get-ref"), seeder.ticket),
		chromedp.Click(chromedp.CSS("#get-form button")),
		chromedp.WaitVisible(running),
		chromedp.Click(running),
		chromedp.WaitVisible(paused),
	)
	screenshot(t, ctx, "transfer-paused")
	if err != nil {
		t.Fatal(err)
	}
	word, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.transfer[data-state="paused"] .state`)))
	if word != "paused" {
		t.Errorf("a paused transfer says %q", word)
	}
	var list []ui.Transfer
	apiGet(t, api, "/api/v1/transfers", &list)
	if len(list) != 1 || list[0].State != "paused" {
		t.Fatalf("after the pause button, the daemon has %+v", list)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(paused),
		chromedp.WaitVisible(chromedp.CSS(`.transfer[data-state="done"]`)),
	)
	screenshot(t, ctx, "transfer-resumed")
	if err != nil {
		t.Fatal(err)
	}
	sameFile(t, src, filepath.Join(downloads, filepath.Base(src)))
}

// foreignPage is what any other local server (a dev server, a notebook)
// could serve on another loopback port: it reads the cookies it can see,
// reads the daemon's status, and tries to share a file through it.
const foreignPage = `<!doctype html><title>another port</title><script>
window.result = (async () => {
  const out = { cookie: document.cookie };
  try {
    const r = await fetch("API/api/v1/status", { credentials: "include" });
    out.status = "read " + r.status + " " + (await r.text());
  } catch (e) { out.status = "blocked"; }
  try {
    await fetch("API/api/v1/shares", { method: "POST", mode: "no-cors", credentials: "include", body: JSON.stringify({ path: "SRC" }) });
  } catch (e) { /* a refusal is what we want; the test asks the daemon */ }
  return out;
})();
</script>`

func TestPageLogin(t *testing.T) {
	ctx := browser(t)
	repo := t.TempDir()
	d, api := startDaemon(t, repo)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(api.URL, "http://"))
	if !strings.HasPrefix(d.page, api.URL+"/#code=") || strings.Contains(d.page, api.Token) {
		t.Fatalf("daemon printed page link %q", d.page)
	}

	// The link logs in, and then leaves neither the address bar nor the
	// history holding the code.
	if err := chromedp.Do(ctx, chromedp.Navigate(d.page), loggedIn()); err != nil {
		screenshot(t, ctx, "login-failed")
		t.Fatal(err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != api.URL+"/" {
		t.Errorf("address after login %q, want %s/", loc, api.URL)
	}
	hist, err := chromedp.Run(ctx, chromedp.NavigationEntries())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range hist.Entries {
		if strings.Contains(e.URL, "code=") {
			t.Errorf("history holds %s", e.URL)
		}
	}
	if c, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.cookie")); err != nil || c != "" {
		t.Errorf("the page's script reads cookies %q (%v)", c, err)
	}
	jar, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, tg, network.GetCookies, network.GetCookiesParams{URLs: []string{api.URL + "/"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	var session string
	for _, c := range jar.Cookies {
		if c.Value == api.Token {
			t.Errorf("cookie %s holds the token", c.Name)
		}
		if c.Name == "pollen_session_"+port {
			session = c.Value
			if !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict {
				t.Errorf("session cookie HttpOnly=%v SameSite=%q", c.HTTPOnly, c.SameSite)
			}
		}
	}
	if session == "" {
		t.Fatalf("no pollen_session_%s cookie in %+v", port, jar.Cookies)
	}
	used := strings.TrimPrefix(d.page, api.URL+"/#code=")
	if resp, err := http.Post(api.URL+"/login", "application/json", strings.NewReader(`{"code": "`+used+`"}`)); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the used code again: %v %v", resp.Status, err)
	}

	// Every reply the browser gets keeps out of caches and frames.
	page, err := chromedp.Run(ctx, chromedp.NavigateResponse(api.URL+"/"))
	if err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"cache-control":           "no-store",
		"x-content-type-options":  "nosniff",
		"content-security-policy": "frame-ancestors 'none'",
	} {
		if got := http.Header(headerMap(page.Headers)).Get(k); !strings.Contains(got, want) {
			t.Errorf("page header %s: %q, want %q", k, got, want)
		}
	}
	for _, path := range []string{"/static/app.js", "/api/v1/status"} {
		code, h := headersOf(t, api.URL+path, api.Token)
		if code != http.StatusOK || h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("%s: %d %v", path, code, h)
		}
	}

	// A page from another loopback port sees no credential and cannot
	// read or drive the API, though the browser holds the session.
	src := mixed(t) + "/one-byte.bin"
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, strings.NewReplacer("API", api.URL, "SRC", src).Replace(foreignPage))
	}))
	defer foreign.Close()
	var seen struct{ Cookie, Status string }
	if err := chromedp.Do(ctx, chromedp.Navigate(foreign.URL)); err != nil {
		t.Fatal(err)
	}
	if seen, err = chromedp.Run(ctx, chromedp.Evaluate[struct{ Cookie, Status string }]("window.result", chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
	t.Logf("another port's page: cookies %q, status %s", seen.Cookie, seen.Status)
	if strings.Contains(seen.Cookie, session) || strings.Contains(seen.Cookie, api.Token) {
		t.Errorf("another port's page reads %q", seen.Cookie)
	}
	if seen.Status != "blocked" {
		t.Errorf("another port's page read the API: %s", seen.Status)
	}
	req, _ := http.NewRequest("GET", api.URL+"/api/v1/shares", nil)
	req.Header.Set("Authorization", "Bearer "+api.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var shares []map[string]any
	json.NewDecoder(resp.Body).Decode(&shares)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(shares) != 0 {
		t.Errorf("another port's page shared: %d %v", resp.StatusCode, shares)
	}

	// After a restart on the same port the open page says so, in place
	// of what it showed; a new link from `pollen page` logs in again.
	if err := chromedp.Do(ctx, chromedp.Navigate(api.URL+"/"), loggedIn()); err != nil {
		t.Fatal(err)
	}
	d.stop()
	d2, _ := startDaemonArgs(t, repo, "--api", "127.0.0.1:"+port)
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](
		`document.querySelector("#message").textContent.startsWith("daemon restarted") && document.querySelector("main").hidden`,
		chromedp.WithPollingTimeout(30*time.Second)))
	screenshot(t, ctx, "daemon-restarted")
	if err != nil {
		msg, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#message")))
		t.Fatalf("after a restart the page says %q (%v)", msg, err)
	}
	link := strings.TrimSpace(run(t, repo, "page").ok(t).stdout)
	if link == d2.page || !strings.HasPrefix(link, api.URL+"/#code=") {
		t.Errorf("pollen page printed %q", link)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(link), loggedIn()); err != nil {
		t.Errorf("login with a link from pollen page: %v", err)
	}
}

// headerMap turns the headers Chromium reports into net/http's form.
func headerMap(h network.Headers) map[string][]string {
	out := map[string][]string{}
	for k, v := range h {
		out[http.CanonicalHeaderKey(k)] = []string{fmt.Sprint(v)}
	}
	return out
}

// headersOf GETs url with the token and returns the status and headers.
func headersOf(t *testing.T, url, token string) (int, http.Header) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

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
