package web

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/herald-hq/herald"
	eventcatalog "github.com/herald-hq/herald/internal/catalog"
	"github.com/herald-hq/herald/internal/format"
)

var verbRE = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]`)

func TestCatalogsHaveTheSameKeysAndVerbs(t *testing.T) {
	t.Parallel()
	cs, err := loadCatalogs(catalogFiles)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cs.langs, []string{"en", "zh-CN"}) {
		t.Fatalf("languages %v, want [en zh-CN]", cs.langs)
	}
	en := cs.byLang["en"].texts
	for _, lang := range cs.langs[1:] {
		other := cs.byLang[lang].texts
		for k, v := range en {
			ov, ok := other[k]
			if !ok {
				t.Errorf("%s.json lacks %q", lang, k)
				continue
			}
			if ov == "" {
				t.Errorf("%s.json: %q is empty", lang, k)
			}
			if a, b := verbRE.FindAllString(v, -1), verbRE.FindAllString(ov, -1); !slices.Equal(a, b) {
				t.Errorf("%q: en has verbs %v, %s has %v", k, a, lang, b)
			}
		}
		for k := range other {
			if _, ok := en[k]; !ok {
				t.Errorf("%s.json has %q, which en.json lacks", lang, k)
			}
		}
	}
}

// Every key the templates and handlers use exists; keys built from a prefix
// ("state." + state) exist for every value they can take.
func TestEveryUsedKeyExists(t *testing.T) {
	t.Parallel()
	cs, err := loadCatalogs(catalogFiles)
	if err != nil {
		t.Fatal(err)
	}
	var used []string
	tmplKey := regexp.MustCompile(`\bt "([^"]+)"`)
	files, _ := filepath.Glob("templates/*.html")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range tmplKey.FindAllStringSubmatch(string(b), -1) {
			used = append(used, m[1])
		}
	}
	goKey := regexp.MustCompile(`(?:\.T\(|setFlash\(w, r, "(?:ok|error)", )"([a-z_.]+)"`)
	goFiles, _ := filepath.Glob("*.go")
	for _, f := range goFiles {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goKey.FindAllStringSubmatch(string(b), -1) {
			used = append(used, m[1])
		}
	}
	if len(used) < 100 {
		t.Fatalf("found only %d keys in use; is the scan broken?", len(used))
	}
	for _, v := range []string{herald.RolePlatformAdmin, herald.RoleProjectAdmin, herald.RoleViewer, herald.RolePublisher} {
		used = append(used, "role."+v)
	}
	for _, v := range []herald.State{herald.StatePending, herald.StateRetrying, herald.StateSucceeded, herald.StateFailed, herald.StateCancelled, herald.StateHeld} {
		used = append(used, "state."+string(v))
	}
	for _, v := range format.Formats() {
		used = append(used, "format."+v)
	}
	for _, v := range format.Languages() {
		used = append(used, "lang."+v)
	}
	for _, v := range []string{herald.AuthNone, herald.AuthBasic, herald.AuthBearer, herald.AuthHeader, herald.AuthMTLS, herald.AuthSign} {
		used = append(used, "auth."+v)
	}
	for _, v := range []string{herald.OpIn, herald.OpNotIn, herald.OpExists, herald.OpDoesNotExist} {
		used = append(used, "op."+v)
	}
	for _, v := range []string{herald.SeverityPresetAll, herald.SeverityPresetAlerts, herald.SeverityPresetCritical} {
		used = append(used, "severity."+v)
	}
	for _, v := range []string{herald.CategoryEvents, herald.CategoryAlarms} {
		used = append(used, "category."+v)
	}
	for _, et := range eventcatalog.EventTypes() {
		used = append(used, "source."+et.Source)
	}
	for _, k := range used {
		if !cs.has(k) {
			t.Errorf("key %q is used but not in the catalogs", k)
		}
	}
}

func TestNegotiate(t *testing.T) {
	t.Parallel()
	cs, err := loadCatalogs(catalogFiles)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		accept, cookie, want string
	}{
		{"", "", "en"},
		{"zh-CN,zh;q=0.9", "", "zh-CN"},
		{"zh-Hans-CN", "", "zh-CN"},
		{"zh-TW;q=0.8, en;q=0.9", "", "en"},
		{"fr, de;q=0.5", "", "en"},
		{"fr, zh;q=0.5", "", "zh-CN"},
		{"zh;q=0", "", "en"},
		{"zh-CN", "en", "en"},
		{"en", "zh-CN", "zh-CN"},
		{"en", "klingon", "en"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Language", tc.accept)
		if tc.cookie != "" {
			r.Header.Set("Cookie", langCookie+"="+tc.cookie)
		}
		if got := cs.negotiate(r); got != tc.want {
			t.Errorf("Accept-Language %q, cookie %q: %s, want %s", tc.accept, tc.cookie, got, tc.want)
		}
	}
}

func TestLocalPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/webhooks":               "/webhooks",
		"/webhooks/x?state=held":  "/webhooks/x?state=held",
		"":                        "/f",
		"//evil.example/":         "/f",
		"/\\evil.example":         "/f",
		"https://evil.example/":   "/f",
		"webhooks":                "/f",
		"javascript:alert(1)":     "/f",
		"/ok#log":                 "/ok#log",
		"/%2F%2Fevil.example/x":   "/%2F%2Fevil.example/x",
		"http:/evil.example/path": "/f",
	} {
		if got := localPath(in, "/f"); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFieldID(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"url":                  "f-url",
		"auth.username":        "f-auth-username",
		"conditions[2].values": "f-conditions-2-values",
		"tls.ca_pem":           "f-tls-ca_pem",
		"max_attempts":         "f-max_attempts",
		"headers[1].name":      "f-headers-1-name",
	} {
		if got := fieldID(in); got != want {
			t.Errorf("fieldID(%q) = %q, want %q", in, got, want)
		}
	}
}
