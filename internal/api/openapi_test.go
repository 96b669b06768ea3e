package api

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// loadOpenAPI loads and validates the embedded document.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openAPIDocument)
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI 3 document: %v", err)
	}
	return doc
}

func TestOpenAPIDocumentValid(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	if !strings.HasPrefix(doc.OpenAPI, "3.0.") {
		t.Fatalf("openapi %q, want 3.0.x", doc.OpenAPI)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/api/v1" {
		t.Fatalf("servers %v, want the one relative server /api/v1", doc.Servers)
	}
	if _, ok := doc.Components.SecuritySchemes["bearerAuth"]; !ok {
		t.Fatal("no bearerAuth security scheme")
	}

	// Every operation: an operationId, a success answer, and the error
	// answers every request can get; authenticated ones also 401 and 503.
	ids := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.OperationID == "" || ids[op.OperationID] {
				t.Errorf("%s: operationId %q missing or repeated", name, op.OperationID)
			}
			ids[op.OperationID] = true
			ok := false
			for code := range op.Responses.Map() {
				ok = ok || strings.HasPrefix(code, "2")
			}
			if !ok {
				t.Errorf("%s: no 2xx answer", name)
			}
			want := []string{"431"}
			if op.Security == nil || len(*op.Security) > 0 {
				want = append(want, "401", "500", "503")
			}
			for _, code := range want {
				if op.Responses.Value(code) == nil {
					t.Errorf("%s: answer %s is not documented", name, code)
				}
			}
			if op.RequestBody != nil && op.Responses.Value("400") == nil {
				t.Errorf("%s: takes a body but documents no 400", name)
			}
		}
	}
}

// registeredRoutes parses the route patterns of Register and the functions
// it calls from this package's sources: h("METHOD /api/v1/...") for the
// authenticated routes, mux.HandleFunc("METHOD /api/v1/...") for the others.
func registeredRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no API sources: %v", err)
	}
	re := regexp.MustCompile(`(?:\bh|mux\.HandleFunc|mux\.Handle)\("([A-Z]+) (/api/v1/[^"]*)"`)
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			out = append(out, m[1]+" "+m[2])
		}
	}
	sort.Strings(out)
	return out
}

func TestOpenAPIRoutes(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	routes := registeredRoutes(t)
	if len(routes) < 20 || !slices.Contains(routes, "GET /api/v1/openapi.json") {
		t.Fatalf("parsed too few routes, or not the document's own: %v", routes)
	}
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+doc.Servers[0].URL+path)
		}
	}
	sort.Strings(documented)
	for _, r := range routes {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s has no operation in openapi.json", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routes, d) {
			t.Errorf("openapi.json documents %s, which Register does not serve", d)
		}
	}
}

func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	New(Options{}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// Without a token: the document is public.
	resp, err := http.Get(srv.URL + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET openapi.json: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !bytes.Equal(body.Bytes(), openAPIDocument) {
		t.Fatal("GET openapi.json did not serve the embedded document")
	}
	// Only GET (and HEAD); other methods fall to the catch-all.
	resp, err = http.Post(srv.URL+"/api/v1/openapi.json", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("POST openapi.json: %d, want 404", resp.StatusCode)
	}
	// The rest of the API still wants a token.
	resp, err = http.Get(srv.URL + "/api/v1/webhooks")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET webhooks without a token: %d, want 401", resp.StatusCode)
	}
}
