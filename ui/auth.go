package ui

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Who may call the API: a program holding the token (Authorization:
// Bearer, the token from api.json), or the page with a session cookie it
// got for a one-time login code. The token itself never reaches the
// browser, so no script, of this page or of another one on loopback,
// can read it.

// codeLife is how long a login link works if nobody opens it: long
// enough to read it and click, short enough that a terminal's
// scrollback or a log holds nothing that still works.
const codeLife = 15 * time.Minute

// maxCodes bounds the unused login codes kept; the oldest go first.
const maxCodes = 64

// securityHeaders go on every reply. The page makes no request beyond
// this origin, is never framed, and nothing it is sent may be cached or
// sniffed into another type.
var securityHeaders = map[string]string{
	"Content-Security-Policy":      "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
	"Cache-Control":                "no-store",
	"X-Content-Type-Options":       "nosniff",
	"Referrer-Policy":              "no-referrer",
	"Cross-Origin-Resource-Policy": "same-origin",
}

// logins holds the unused login codes and the live sessions, by the
// SHA-256 of their values: a map lookup then leaks nothing about a
// secret through its timing, and memory holds no usable value.
type logins struct {
	mu       sync.Mutex
	codes    map[[32]byte]time.Time // unused code → when it dies
	sessions map[[32]byte]bool
}

func secret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// newCode returns a fresh one-time login code.
func (l *logins) newCode(now time.Time) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.codes == nil {
		l.codes = map[[32]byte]time.Time{}
	}
	var oldest [32]byte
	var oldestDies time.Time
	for k, dies := range l.codes {
		if !now.Before(dies) {
			delete(l.codes, k)
		} else if oldestDies.IsZero() || dies.Before(oldestDies) {
			oldest, oldestDies = k, dies
		}
	}
	if len(l.codes) >= maxCodes {
		delete(l.codes, oldest)
	}
	c := secret()
	l.codes[sha256.Sum256([]byte(c))] = now.Add(codeLife)
	return c
}

// redeem spends a code (once: a second use fails) for a new session.
func (l *logins) redeem(code string, now time.Time) (session string, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := sha256.Sum256([]byte(code))
	dies, ok := l.codes[k]
	delete(l.codes, k)
	if !ok || !now.Before(dies) {
		return "", false
	}
	if l.sessions == nil {
		l.sessions = map[[32]byte]bool{}
	}
	s := secret()
	l.sessions[sha256.Sum256([]byte(s))] = true
	return s, true
}

func (l *logins) valid(session string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sessions[sha256.Sum256([]byte(session))]
}

// LoginLink returns a page address with a fresh one-time login code,
// for the daemon to print and for `pollen page`. The code rides in the
// fragment, which the browser never sends: the page posts it to /login.
func (a *API) LoginLink() string {
	return "http://127.0.0.1:" + a.Port + "/#code=" + a.logins.newCode(time.Now())
}

// sessionCookie names the page's cookie after the port, so pages of two
// daemons on one machine (cookies ignore the port) keep their own.
func (a *API) sessionCookie() string { return "pollen_session_" + a.Port }

// login trades a one-time code ({"code"}) for an HttpOnly session cookie.
func (a *API) login(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Code string `json:"code"`
	}
	json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&req)
	s, ok := a.logins.redeem(req.Code, time.Now())
	if !ok {
		apiError(w, http.StatusUnauthorized, "this login link was used or has expired: run 'pollen page' for a new one")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: a.sessionCookie(), Value: s, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
	w.WriteHeader(http.StatusNoContent)
}

// loginLink answers {"url"}: a fresh login link. Only the token may ask,
// so a session never outlives the daemon by minting its own successors.
func (a *API) loginLink(w http.ResponseWriter, r *http.Request) {
	if !a.bearer(r) {
		apiError(w, http.StatusForbidden, "login links are for the token holder (pollen page)")
		return
	}
	reply(w, map[string]string{"url": a.LoginLink()})
}

// guard sets the security headers, then enforces Host, Origin and
// credentials, in that order.
func (a *API) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		setSecurityHeaders(w.Header())
		w = securedWriter{w}
		if !a.ownHost(r.Host) {
			apiError(w, http.StatusForbidden, "host %q is not this API", r.Host)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !a.ownOrigin(o) {
			apiError(w, http.StatusForbidden, "cross-origin request from %q refused", o)
			return
		}
		if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/ipfs/") || r.URL.Path == "/metrics" {
			if code, why := a.refusal(r); code != 0 {
				apiError(w, code, "%s", why)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func setSecurityHeaders(h http.Header) {
	for k, v := range securityHeaders {
		h.Set(k, v)
	}
}

// securedWriter sets the security headers again as a reply's status
// goes out: net/http's file server drops Cache-Control from its errors.
type securedWriter struct{ http.ResponseWriter }

func (w securedWriter) WriteHeader(code int) {
	setSecurityHeaders(w.Header())
	w.ResponseWriter.WriteHeader(code)
}

// Flush keeps the event stream streaming.
func (w securedWriter) Flush() { http.NewResponseController(w.ResponseWriter).Flush() }

func (w securedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// bearer says whether r carries the token, compared in constant time.
func (a *API) bearer(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && a.Token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(a.Token)) == 1
}

// refusal says why r may not call the API (status and message), or 0.
func (a *API) refusal(r *http.Request) (int, string) {
	if a.bearer(r) {
		return 0, ""
	}
	c, err := r.Cookie(a.sessionCookie())
	switch {
	case err != nil:
		return http.StatusUnauthorized, "not logged in: open the link 'pollen daemon' printed, or run 'pollen page' (programs: the token in api.json)"
	case !fromThisOrigin(r):
		return http.StatusForbidden, "request from another site refused"
	case !a.logins.valid(c.Value):
		return http.StatusUnauthorized, "daemon restarted: open the new link it printed, or run 'pollen page'"
	}
	return 0, ""
}

// fromThisOrigin says whether a browser sent r from this page or the
// address bar. Cookies ignore the port, so a page on another loopback
// port is "same site" and its requests carry the session cookie:
// Sec-Fetch-Site tells the two apart (browsers without it still meet
// the Origin check).
func fromThisOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return false
}

func (a *API) ownHost(h string) bool {
	host, port, err := net.SplitHostPort(h)
	return err == nil && port == a.Port && (host == "127.0.0.1" || host == "localhost")
}

func (a *API) ownOrigin(o string) bool {
	rest, ok := strings.CutPrefix(o, "http://")
	return ok && a.ownHost(rest)
}
