package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/service"
)

// Cookies the console sets.
const (
	sessionCookie = "herald_session"
	// csrfCookie is the double-submit token of forms shown before login
	// (login, language); after login the session's own token is used.
	csrfCookie  = "herald_csrf"
	langCookie  = "herald_lang"
	flashCookie = "herald_flash"
	csrfField   = "csrf"
	csrfHeader  = "X-CSRF-Token"
	maxFormSize = 1 << 20
)

// request is what a handler knows about its caller.
type request struct {
	lang string
	tr   *catalog
	// sess and p are nil before login.
	sess *herald.Session
	p    *service.Principal
	csrf string
	// flash is a message left by the previous request (after a redirect).
	flash *flash
}

// T translates key in the caller's language.
func (rq *request) T(key string, args ...any) string { return rq.tr.T(key, args...) }

type handlerFunc func(w http.ResponseWriter, r *http.Request, rq *request) error

// public serves a page that needs no login; the session is loaded when there
// is one.
func (c *Console) public(fn handlerFunc) http.Handler {
	return c.serve(fn, false)
}

// authed serves a page that needs a login: without one, GET goes to the
// login page and anything else is refused.
func (c *Console) authed(fn handlerFunc) http.Handler {
	return c.serve(fn, true)
}

func (c *Console) serve(fn handlerFunc, needLogin bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq := &request{}
		rq.lang = c.i18n.negotiate(r)
		rq.tr = c.i18n.get(rq.lang)
		expired := false
		if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" {
			se, p, err := c.svc.Session(r.Context(), ck.Value)
			switch {
			case err == nil:
				rq.sess, rq.p, rq.csrf = se, p, se.CSRF
			case herald.ErrorCode(err) == herald.EUnauthorized:
				clearCookie(w, r, sessionCookie)
				expired = true
			default:
				c.fail(w, r, rq, err)
				return
			}
		}
		if rq.sess == nil {
			rq.csrf = anonCSRF(w, r)
		}
		unsafe := r.Method != http.MethodGet && r.Method != http.MethodHead
		if unsafe && expired && needLogin {
			// The form was made for a session that has ended: nothing is done,
			// so say why instead of blaming its (now stale) CSRF token.
			if isHTMX(r) {
				w.Header().Set("HX-Redirect", "/login")
			}
			c.fail(w, r, rq, herald.Errorf(herald.EUnauthorized, "%s", rq.T("error.session_ended")))
			return
		}
		if unsafe {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormSize)
			if err := r.ParseForm(); err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					c.fail(w, r, rq, herald.Errorf(herald.ETooLarge, "%s", rq.T("error.too_large")))
					return
				}
				// Otherwise the form is empty or partial: the token check decides.
			}
			if !validCSRF(r, rq.csrf) {
				c.fail(w, r, rq, herald.Errorf(herald.EForbidden, "%s", rq.T("error.csrf")))
				return
			}
		}
		if needLogin && rq.sess == nil {
			if r.Method == http.MethodGet {
				target := "/login?next=" + url.QueryEscape(r.URL.RequestURI())
				if isHTMX(r) {
					w.Header().Set("HX-Redirect", target)
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				http.Redirect(w, r, target, http.StatusSeeOther)
				return
			}
			c.fail(w, r, rq, herald.Errorf(herald.EUnauthorized, "%s", rq.T("error.login_required")))
			return
		}
		if !isHTMX(r) {
			rq.flash = c.takeFlash(w, r)
		}
		if err := fn(w, r, rq); err != nil {
			c.fail(w, r, rq, err)
		}
	})
}

// validCSRF compares the X-CSRF-Token header, or else the form field (the
// form must be parsed), with want in constant time.
func validCSRF(r *http.Request, want string) bool {
	got := r.Header.Get(csrfHeader)
	if got == "" {
		got = r.PostForm.Get(csrfField)
	}
	return want != "" && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// anonCSRF returns the double-submit token of a visitor without a session,
// setting its cookie on first use.
func anonCSRF(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(csrfCookie); err == nil && len(ck.Value) >= 32 {
		return ck.Value
	}
	v := randomToken()
	setCookie(w, r, csrfCookie, v, 0)
	// Visible to the rest of this request (a GET renders it into the form).
	r.AddCookie(&http.Cookie{Name: csrfCookie, Value: v})
	return v
}

func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// setCookie sets an HttpOnly, SameSite=Strict cookie for the whole console,
// Secure when the browser reached Herald over HTTPS: directly, or through a
// trusted proxy that says so (see client). maxAge 0 makes a browser-session
// cookie.
func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: clientOf(r).https, SameSite: http.SameSiteStrictMode,
	})
}

func clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	setCookie(w, r, name, "", -1)
}

func isHTMX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// localPath returns next when it is a path on this server, fallback otherwise
// (no open redirects: "//host", "/\host" and absolute URLs are refused).
func localPath(next, fallback string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return fallback
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return fallback
	}
	return next
}

// flash is a one-time message shown on the page after a redirect: a catalog
// key and its arguments, carried in a short-lived cookie (so it works on any
// node of a cluster). Arguments are plain text, escaped when shown.
type flash struct {
	Kind string // "ok" or "error"
	Key  string
	Args []string
}

func (c *Console) setFlash(w http.ResponseWriter, r *http.Request, kind, key string, args ...string) {
	v := url.Values{"k": {kind}, "m": {key}, "a": args}
	setCookie(w, r, flashCookie, base64.RawURLEncoding.EncodeToString([]byte(v.Encode())), 60)
}

func (c *Console) takeFlash(w http.ResponseWriter, r *http.Request) *flash {
	ck, err := r.Cookie(flashCookie)
	if err != nil || ck.Value == "" {
		return nil
	}
	clearCookie(w, r, flashCookie)
	raw, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil {
		return nil
	}
	v, err := url.ParseQuery(string(raw))
	if err != nil || !c.i18n.has(v.Get("m")) || !slices.Contains([]string{"ok", "error"}, v.Get("k")) {
		return nil
	}
	return &flash{Kind: v.Get("k"), Key: v.Get("m"), Args: v["a"]}
}
