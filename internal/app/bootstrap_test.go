package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	hrld "github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/app"
	"github.com/herald-hq/herald/internal/config"
	"github.com/herald-hq/herald/internal/service"
)

// Changing HERALD_ADMIN_TOKEN replaces the bootstrap token: the previous
// value (and a bootstrap token of an older Herald) stops working, tokens
// created through the API stay.
func TestBootstrapTokenReplaced(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tokA := "first-bootstrap-token-0123456789abcdef"
	tokB := "second-bootstrap-token-0123456789abcdef"
	tokLegacy := "legacy-bootstrap-token-0123456789abcdef"
	cfgWith := func(tok string) config.Config {
		cfg := config.Defaults()
		cfg.Listen = "127.0.0.1:0"
		cfg.DataDir = dir
		cfg.AdminToken = tok
		return cfg
	}
	works := func(h *herald, tok string) bool {
		code, _ := h.do(tok, "GET", "/api/v1/tokens", nil, nil)
		if code != http.StatusOK && code != http.StatusUnauthorized {
			t.Fatalf("GET /tokens: %d", code)
		}
		return code == http.StatusOK
	}

	h := startWith(t, cfgWith(tokA))
	if !works(h, tokA) {
		t.Fatal("configured token refused")
	}
	var created struct {
		Token string `json:"token"`
	}
	if code, raw := h.do(tokA, "POST", "/api/v1/tokens", map[string]any{"name": "ops", "role": "platform-admin", "projects": []string{}}, &created); code != http.StatusCreated {
		t.Fatalf("create token: %d %s", code, raw)
	}
	ops := created.Token
	// A bootstrap token as Herald before this release stored it.
	if err := h.app.Store.CreateToken(context.Background(), &hrld.Token{ID: hrld.NewID("tok"), Name: "bootstrap admin (HERALD_ADMIN_TOKEN)",
		Role: hrld.RolePlatformAdmin, Projects: []string{}, Hash: service.HashToken(tokLegacy), CreatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	if !works(h, tokLegacy) {
		t.Fatal("legacy token refused before the restart")
	}
	h.close()

	h = startWith(t, cfgWith(tokB))
	if !works(h, tokB) {
		t.Fatal("new configured token refused")
	}
	if works(h, tokA) {
		t.Fatal("the previous HERALD_ADMIN_TOKEN still works")
	}
	if works(h, tokLegacy) {
		t.Fatal("an older Herald's bootstrap token still works")
	}
	if !works(h, ops) {
		t.Fatal("a token created through the API was revoked")
	}
	if h.app.RevokedBootstrapTokens != 2 || h.app.AdminTokenSource != app.AdminTokenConfigured {
		t.Fatalf("revoked %d (want 2), source %v", h.app.RevokedBootstrapTokens, h.app.AdminTokenSource)
	}
	h.close()

	// The same value again changes nothing.
	h = startWith(t, cfgWith(tokB))
	if !works(h, tokB) || h.app.RevokedBootstrapTokens != 0 {
		t.Fatalf("restart with the same token: works=%v revoked=%d", works(h, tokB), h.app.RevokedBootstrapTokens)
	}
	var list struct{ Data []struct{ Name string } }
	h.do(tokB, "GET", "/api/v1/tokens", nil, &list)
	if len(list.Data) != 2 {
		t.Fatalf("tokens after three starts: %+v, want the bootstrap token and ops", list.Data)
	}
}

// A bootstrap token shorter than 32 characters is refused at start, saying
// why and how to make one.
func TestShortBootstrapTokenRefused(t *testing.T) {
	t.Parallel()
	cfg := config.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.AdminToken = strings.Repeat("x", 31)
	_, err := app.New(context.Background(), cfg, app.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil || !strings.Contains(err.Error(), "HERALD_ADMIN_TOKEN") || !strings.Contains(err.Error(), "at least 32") {
		t.Fatalf("31-character token: %v, want a refusal naming HERALD_ADMIN_TOKEN and the minimum", err)
	}
	cfg.AdminToken = strings.Repeat("x", 32)
	a, err := app.New(context.Background(), cfg, app.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("32-character token: %v", err)
	}
	a.Close(context.Background())
}
