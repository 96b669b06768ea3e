package app_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Clients generated from the OpenAPI document that a live Herald serves
// compile against Herald's types without casts and drive it: create, read,
// update and test a webhook, post an event, see it delivered, delete the
// webhook. testdata/openapi-clients/go is a module of its own that pins
// oapi-codegen as a tool (so Herald's go.mod does not depend on it);
// testdata/openapi-clients/ts pins openapi-typescript, openapi-fetch and
// TypeScript in its package-lock.json.

// needTool skips the test when a tool or a package registry it needs is
// missing, and fails it under CI=true, where every dependency must be there.
func needTool(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// copyDir copies the regular files of src into a new temporary directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// servedOpenAPI writes the document h serves into dir/openapi.json.
func servedOpenAPI(t *testing.T, h *herald, dir string) {
	t.Helper()
	code, doc := h.do("", "GET", "/api/v1/openapi.json", nil, nil)
	if code != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d", code)
	}
	if err := os.WriteFile(filepath.Join(dir, "openapi.json"), doc, 0o644); err != nil {
		t.Fatal(err)
	}
}

// runIn runs a command in dir with extra environment, bounded by timeout.
func runIn(t *testing.T, dir string, timeout time.Duration, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func TestOpenAPIGeneratedGoClient(t *testing.T) {
	t.Parallel()
	goBin, err := exec.LookPath("go")
	if err != nil {
		needTool(t, "the go command is not on PATH: %v", err)
	}
	h := start(t, nil)
	rc := newReceiver(t, nil)
	dir := copyDir(t, filepath.Join("testdata", "openapi-clients", "go"))
	servedOpenAPI(t, h, dir)
	env := []string{"GOWORK=off", "GOFLAGS=-mod=readonly"}

	if out, err := runIn(t, dir, 5*time.Minute, env, goBin, "mod", "download"); err != nil {
		needTool(t, "cannot download oapi-codegen from the Go module proxy: %v\n%s", err, out)
	}
	if out, err := runIn(t, dir, 5*time.Minute, env, goBin, "tool", "oapi-codegen",
		"-generate", "types,client", "-package", "main", "-o", "client.gen.go", "openapi.json"); err != nil {
		t.Fatalf("oapi-codegen: %v\n%s", err, out)
	}
	if out, err := runIn(t, dir, 5*time.Minute, env, goBin, "vet", "."); err != nil {
		t.Fatalf("the generated Go client does not compile with the program written to it: %v\n%s", err, out)
	}
	out, err := runIn(t, dir, 5*time.Minute, append(env,
		"HERALD_URL="+h.url+"/api/v1", "HERALD_TOKEN="+adminToken, "RECEIVER_URL="+rc.URL), goBin, "run", ".")
	if err != nil || !strings.HasPrefix(out, "ok ") {
		t.Fatalf("Go client against the live server: %v\n%s", err, out)
	}
	if n := rc.count(); n != 2 { // the test message and the event
		t.Fatalf("receiver got %d requests, want 2", n)
	}
}

func TestOpenAPIGeneratedTypeScriptClient(t *testing.T) {
	t.Parallel()
	npm, err := exec.LookPath("npm")
	if err != nil {
		needTool(t, "npm is not installed (apt-get install -y nodejs npm): skipping the TypeScript client check")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		needTool(t, "node is not installed (apt-get install -y nodejs): skipping the TypeScript client check")
	}
	h := start(t, nil)
	rc := newReceiver(t, nil)
	dir := copyDir(t, filepath.Join("testdata", "openapi-clients", "ts"))
	servedOpenAPI(t, h, dir)

	if out, err := runIn(t, dir, 5*time.Minute, nil, npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"); err != nil {
		needTool(t, "npm ci (openapi-typescript, openapi-fetch, typescript) failed: %v\n%s", err, out)
	}
	bin := filepath.Join(dir, "node_modules", ".bin")
	if out, err := runIn(t, dir, 2*time.Minute, nil, filepath.Join(bin, "openapi-typescript"), "openapi.json", "-o", "schema.d.ts"); err != nil {
		t.Fatalf("openapi-typescript: %v\n%s", err, out)
	}
	if out, err := runIn(t, dir, 2*time.Minute, nil, filepath.Join(bin, "tsc"), "-p", "."); err != nil {
		t.Fatalf("the client written to the generated types does not type-check: %v\n%s", err, out)
	}
	out, err := runIn(t, dir, 2*time.Minute, []string{
		"HERALD_URL=" + h.url + "/api/v1", "HERALD_TOKEN=" + adminToken, "RECEIVER_URL=" + rc.URL,
	}, node, filepath.Join("out", "main.js"))
	if err != nil || !strings.HasPrefix(out, "ok ") {
		t.Fatalf("TypeScript client against the live server: %v\n%s", err, out)
	}
	if n := rc.count(); n != 2 {
		t.Fatalf("receiver got %d requests, want 2", n)
	}
}
