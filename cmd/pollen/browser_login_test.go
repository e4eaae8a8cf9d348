package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

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
