package ui_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pollen-p2p/pollen/ui"
)

// newAPI serves an API with no node: the login, the page and the
// transfer list need none.
func newAPI(t *testing.T) (*ui.API, *httptest.Server) {
	t.Helper()
	return serveAPI(t, &ui.API{Token: strings.Repeat("ab", 32)})
}

func do(t *testing.T, method, url, body string, hdr map[string]string, cookies ...*http.Cookie) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// codeOf takes the one-time code out of a login link.
func codeOf(t *testing.T, api *ui.API, link string) string {
	t.Helper()
	code, ok := strings.CutPrefix(link, "http://127.0.0.1:"+api.Port+"/#code=")
	if !ok || len(code) != 64 {
		t.Fatalf("login link %q", link)
	}
	return code
}

func TestLoginIsOneTime(t *testing.T) {
	api, srv := newAPI(t)
	code := codeOf(t, api, api.LoginLink())

	resp := do(t, "POST", srv.URL+"/login", `{"code": "`+code+`"}`, nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	cs := resp.Cookies()
	if len(cs) != 1 {
		t.Fatalf("login set %d cookies", len(cs))
	}
	c := cs[0]
	if c.Name != "pollen_session_"+api.Port || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
		t.Errorf("session cookie %s: want pollen_session_PORT, HttpOnly, SameSite=Strict, Path=/", resp.Header.Get("Set-Cookie"))
	}
	if c.Value == api.Token || c.Value == code || strings.Contains(resp.Header.Get("Set-Cookie"), api.Token) {
		t.Error("the session cookie holds the token or the code")
	}
	if r := do(t, "GET", srv.URL+"/api/v1/transfers", "", nil, c); r.StatusCode != http.StatusOK {
		t.Errorf("API with the session: %d", r.StatusCode)
	}

	// The used code is dead, as is one never issued; neither sets a cookie.
	for name, body := range map[string]string{
		"used":  `{"code": "` + code + `"}`,
		"wrong": `{"code": "` + strings.Repeat("0", 64) + `"}`,
		"empty": `{}`,
		"junk":  `not json`,
	} {
		r := do(t, "POST", srv.URL+"/login", body, nil)
		if r.StatusCode != http.StatusUnauthorized || len(r.Cookies()) != 0 {
			t.Errorf("%s code: %d, %d cookies", name, r.StatusCode, len(r.Cookies()))
		}
	}

	// A session of another daemon (or of this one before a restart) is
	// refused, with a message the page shows as it is.
	stale := &http.Cookie{Name: c.Name, Value: strings.Repeat("1", 64)}
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/status", nil)
	req.AddCookie(stale)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var e struct{ Error string }
	json.NewDecoder(r.Body).Decode(&e)
	r.Body.Close()
	if r.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(e.Error, "daemon restarted") {
		t.Errorf("stale session: %d %q", r.StatusCode, e.Error)
	}
}

func TestSessionRefusedFromAnotherPort(t *testing.T) {
	api, srv := newAPI(t)
	resp := do(t, "POST", srv.URL+"/login", `{"code": "`+codeOf(t, api, api.LoginLink())+`"}`, nil)
	c := resp.Cookies()[0]
	cases := []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"this page", map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusOK},
		{"address bar", map[string]string{"Sec-Fetch-Site": "none"}, http.StatusOK},
		{"another loopback port, no-cors", map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"another site", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"another port's origin", map[string]string{"Origin": "http://127.0.0.1:1"}, http.StatusForbidden},
	}
	for _, tc := range cases {
		if r := do(t, "GET", srv.URL+"/api/v1/transfers", "", tc.hdr, c); r.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, r.StatusCode, tc.want)
		}
	}
	// Another port's page cannot spend a code either.
	r := do(t, "POST", srv.URL+"/login", `{"code": "`+codeOf(t, api, api.LoginLink())+`"}`, map[string]string{"Origin": "http://127.0.0.1:1"})
	if r.StatusCode != http.StatusForbidden || len(r.Cookies()) != 0 {
		t.Errorf("login from another origin: %d", r.StatusCode)
	}
}

func TestLoginLinkNeedsToken(t *testing.T) {
	api, srv := newAPI(t)
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/login-link", nil)
	req.Header.Set("Authorization", "Bearer "+api.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var link struct{ URL string }
	json.NewDecoder(resp.Body).Decode(&link)
	resp.Body.Close()
	code := codeOf(t, api, link.URL)
	login := do(t, "POST", srv.URL+"/login", `{"code": "`+code+`"}`, nil)
	if login.StatusCode != http.StatusNoContent {
		t.Fatalf("login with a link from the API: %d", login.StatusCode)
	}
	// A session cannot mint links for more sessions.
	if r := do(t, "POST", srv.URL+"/api/v1/login-link", "", nil, login.Cookies()[0]); r.StatusCode != http.StatusForbidden {
		t.Errorf("login link by a session: %d", r.StatusCode)
	}
	for _, auth := range []string{"", "Bearer ", "Bearer " + api.Token[:63], "Bearer " + api.Token + "0", "bearer " + api.Token, api.Token} {
		if r := do(t, "POST", srv.URL+"/api/v1/login-link", "", map[string]string{"Authorization": auth}); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %d", auth, r.StatusCode)
		}
	}
}

// Every reply, page or API, success or refusal, carries the headers
// that keep it out of caches, frames and content sniffing.
func TestHeadersOnEveryReply(t *testing.T) {
	api, srv := newAPI(t)
	bearer := map[string]string{"Authorization": "Bearer " + api.Token}
	cases := []struct {
		method, path string
		hdr          map[string]string
		want         int
	}{
		{"GET", "/", nil, http.StatusOK},
		{"GET", "/static/app.js", nil, http.StatusOK},
		{"GET", "/static/style.css", nil, http.StatusOK},
		{"GET", "/static/nothing", nil, http.StatusNotFound},
		{"GET", "/api/v1/transfers", bearer, http.StatusOK},
		{"GET", "/api/v1/transfers", nil, http.StatusUnauthorized},
		{"GET", "/metrics", nil, http.StatusUnauthorized},
		{"POST", "/login", nil, http.StatusUnauthorized},
		{"POST", "/api/v1/login-link", bearer, http.StatusOK},
		{"GET", "/api/v1/transfers", map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
	}
	for _, tc := range cases {
		r := do(t, tc.method, srv.URL+tc.path, "", tc.hdr)
		if r.StatusCode != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, r.StatusCode, tc.want)
		}
		h := r.Header
		if h.Get("Cache-Control") != "no-store" || h.Get("X-Content-Type-Options") != "nosniff" ||
			!strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") ||
			!strings.Contains(h.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("%s %s: headers %v", tc.method, tc.path, h)
		}
	}
}
