package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/herald-hq/herald/internal/app"
)

// What `herald serve` says about platform-admin access, per source.
func TestPrintAdminToken(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		a    app.App
		want []string
		not  []string
	}{
		{"generated", app.App{AdminTokenSource: app.AdminTokenGenerated, GeneratedAdminToken: "hrld_abc"},
			[]string{"shown only this once", "  hrld_abc\n"}, []string{"Lost it?"}},
		{"configured", app.App{AdminTokenSource: app.AdminTokenConfigured},
			[]string{"from admin_token / HERALD_ADMIN_TOKEN"}, []string{"revoked", "hrld_"}},
		{"configured, replaced", app.App{AdminTokenSource: app.AdminTokenConfigured, RevokedBootstrapTokens: 1},
			[]string{"from admin_token / HERALD_ADMIN_TOKEN", "previous value's token, which is revoked"}, nil},
		{"existing", app.App{AdminTokenSource: app.AdminTokenExisting, FirstTokenAt: time.Date(2026, 1, 2, 3, 4, 0, 0, time.Local)},
			[]string{"generated at the first start on 2026-01-02 03:04", "Lost it?", "HERALD_ADMIN_TOKEN", "32 or more characters"}, []string{"hrld_"}},
	} {
		var b strings.Builder
		printAdminToken(&b, &tc.a)
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: output lacks %q:\n%s", tc.name, w, b.String())
			}
		}
		for _, n := range tc.not {
			if strings.Contains(b.String(), n) {
				t.Errorf("%s: output has %q:\n%s", tc.name, n, b.String())
			}
		}
	}
}
