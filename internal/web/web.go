// Package web is Herald's console: server-rendered html/template pages over
// the same service layer as the JSON API, so every rule (who may do what, how
// a webhook is validated) lives in internal/service and nowhere here.
//
// Pages work without JavaScript: every action is a plain form post answered
// by a redirect or a page, and confirmations have their own page. A small
// script (static/app.js) and htmx enhance them: confirmation dialogs, rows
// added and removed in place, fields shown per auth type, "Send test"
// answered in place, a warning when Cancel would lose input.
//
// Sessions: logging in (username and password, or an API token) opens a
// session in the store; the browser holds a random cookie value (HttpOnly,
// SameSite=Strict, Secure over TLS, or behind a trusted proxy that says it
// was reached over HTTPS) of which only the hash is stored. Every
// form carries the session's CSRF token, compared in constant time; before
// login, a double-submit cookie plays that role. A post without a valid token
// is answered 403.
//
// static/htmx.min.js is htmx 2.0.11 exactly as published on npm (htmx.org,
// dist/htmx.min.js, sha256 d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717),
// committed so that nothing is fetched at build or run time. The pages
// configure it (meta htmx-config) to work under the Content-Security-Policy:
// no eval, no inline styles or scripts.
package web

import (
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/api"
	"github.com/herald-hq/herald/internal/service"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

//go:embed i18n/*.json
var catalogFiles embed.FS

// Options configure the console.
type Options struct {
	Service *service.Service
	// Logger receives internal errors. Defaults to slog.Default().
	Logger *slog.Logger
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed (server.trusted_proxies). Defaults to
	// none: the TCP peer is the client.
	TrustedProxies []netip.Prefix
}

// Console is the web console's http.Handler, meant to be mounted at "/".
type Console struct {
	svc     *service.Service
	log     *slog.Logger
	i18n    *catalogs
	pages   map[string]map[string]*pageTemplate // language → page → template
	assets  map[string]string                   // static file → content hash
	handler http.Handler
	trusted []netip.Prefix
	secrets *secretSlots
}

// New returns the console. The templates, catalogs and assets are embedded,
// so an error here is a build defect: New panics, and the package's tests
// catch it.
func New(o Options) *Console {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	c := &Console{svc: o.Service, log: o.Logger, trusted: o.TrustedProxies, secrets: newSecretSlots()}
	var err error
	if c.i18n, err = loadCatalogs(catalogFiles); err != nil {
		panic("web: " + err.Error())
	}
	if c.assets, err = hashAssets(); err != nil {
		panic("web: " + err.Error())
	}
	if c.pages, err = c.parseTemplates(); err != nil {
		panic("web: " + err.Error())
	}
	c.handler = c.withClient(http.NewCrossOriginProtection().Handler(securityHeaders(c.routes())))
	return c
}

// ServeHTTP implements http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.handler.ServeHTTP(w, r)
}

func (c *Console) routes() *http.ServeMux {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFiles, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.URL.Query().Get("v"); v != "" && v == c.assets[strings.TrimPrefix(r.URL.Path, "/static/")] {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	}))

	mux.Handle("GET /login", c.public(c.loginPage))
	mux.Handle("POST /login", c.public(c.login))
	mux.Handle("POST /lang", c.public(c.setLanguage))
	mux.Handle("POST /logout", c.authed(c.logout))

	mux.Handle("GET /{$}", c.authed(func(w http.ResponseWriter, r *http.Request, rq *request) error {
		http.Redirect(w, r, "/webhooks", http.StatusSeeOther)
		return nil
	}))
	mux.Handle("GET /webhooks", c.authed(c.listWebhooks))
	mux.Handle("GET /overview", c.authed(c.overview))
	mux.Handle("GET /webhooks/new", c.authed(c.newWebhook))
	mux.Handle("POST /webhooks/new", c.authed(c.submitNewWebhook))
	mux.Handle("GET /webhooks/{id}", c.authed(c.webhookDetail))
	mux.Handle("GET /webhooks/{id}/edit", c.authed(c.editWebhook))
	mux.Handle("GET /webhooks/{id}/created", c.authed(c.createdPage))
	mux.Handle("GET /webhooks/{id}/export", c.authed(c.exportLog))
	mux.Handle("POST /webhooks/{id}/edit", c.authed(c.submitEditWebhook))
	mux.Handle("POST /webhooks/{id}/enable", c.authed(c.setEnabled(true)))
	mux.Handle("POST /webhooks/{id}/disable", c.authed(c.setEnabled(false)))
	mux.Handle("POST /webhooks/{id}/delete", c.authed(c.deleteWebhook))
	mux.Handle("POST /webhooks/{id}/test", c.authed(c.testWebhook))
	mux.Handle("POST /webhooks/{id}/recover", c.authed(c.recoverWebhook))
	mux.Handle("POST /webhooks/{id}/rotate-secret", c.authed(c.rotateSecret))
	mux.Handle("POST /webhooks/{id}/verify", c.authed(c.verifyWebhook))
	mux.Handle("GET /deliveries/{id}", c.authed(c.deliveryDetail))
	mux.Handle("POST /deliveries/{id}/retry", c.authed(c.retryDelivery))

	mux.Handle("GET /settings", c.authed(c.settingsPage))
	mux.Handle("POST /settings", c.authed(c.saveSettings))
	mux.Handle("POST /settings/tokens", c.authed(c.createToken))
	mux.Handle("POST /settings/tokens/{id}/delete", c.authed(c.deleteToken))
	mux.Handle("POST /settings/users", c.authed(c.createUser))
	mux.Handle("POST /settings/users/{id}/delete", c.authed(c.deleteUser))

	mux.Handle("/", c.public(func(w http.ResponseWriter, r *http.Request, rq *request) error {
		return herald.Errorf(herald.ENotFound, "%s", rq.T("error.no_page"))
	}))
	return mux
}

// securityHeaders sets the headers every console answer carries: a strict
// Content-Security-Policy (scripts and styles only from /static, no inline
// code), no framing, no sniffing, and no caching of pages (they can show
// secrets once).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// status maps an error to its HTTP status, the same way the API does.
func status(err error) int { return api.Status(herald.ErrorCode(err)) }
