// Package deploytest checks what deploy/ and the Dockerfile ship: the Helm
// chart with `helm lint` and `helm template` (its rendered manifests), the
// systemd unit with `systemd-analyze verify`, and the Dockerfile's
// required lines (no Docker engine runs the tests, so it is not built here).
package deploytest

import (
	"bytes"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/herald-hq/herald/internal/testenv"
)

// root is the repository root.
func root(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func helmPath(t *testing.T) string {
	t.Helper()
	return testenv.LookPath(t, "helm", "install it with `go install helm.sh/helm/v3/cmd/helm@v3.22.0` (scripts/test-deps.sh does)",
		"helm", filepath.Join(build.Default.GOPATH, "bin", "helm"))
}

func chart(t *testing.T) string { return filepath.Join(root(t), "deploy", "helm", "herald") }

// helm runs helm with args, returning stdout; stderr is in the error.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmPath(t), args...)
	// Keep helm's cache and config out of the home directory.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home+"/cache", "HELM_CONFIG_HOME="+home+"/config", "HELM_DATA_HOME="+home+"/data")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), &helmError{err: err, stderr: errb.String()}
	}
	return out.String(), nil
}

type helmError struct {
	err    error
	stderr string
}

func (e *helmError) Error() string { return e.err.Error() + ": " + e.stderr }

type manifest = map[string]any

// render runs helm template with --set values and returns the manifests by
// "Kind/name".
func render(t *testing.T, set ...string) map[string]manifest {
	t.Helper()
	args := []string{"template", "rel", chart(t), "--namespace", "herald"}
	for _, s := range set {
		if strings.HasPrefix(s, "-f=") {
			args = append(args, "-f", filepath.Join(chart(t), strings.TrimPrefix(s, "-f=")))
			continue
		}
		args = append(args, "--set", s)
	}
	out, err := helm(t, args...)
	if err != nil {
		t.Fatalf("helm %s: %v", strings.Join(args, " "), err)
	}
	docs := map[string]manifest{}
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(out, -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var m manifest
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			t.Fatalf("rendered YAML: %v\n%s", err, doc)
		}
		if m == nil {
			continue
		}
		docs[get(m, "kind").(string)+"/"+get(m, "metadata", "name").(string)] = m
	}
	return docs
}

// get walks m by map keys and list indexes (ints); nil when absent.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func container(t *testing.T, sts manifest) map[string]any {
	t.Helper()
	c, ok := get(sts, "spec", "template", "spec", "containers", 0).(map[string]any)
	if !ok {
		t.Fatalf("no container in %v", sts)
	}
	return c
}

// env returns the container's environment by name: the value, or the
// valueFrom map.
func env(c map[string]any) map[string]any {
	out := map[string]any{}
	list, _ := c["env"].([]any)
	for _, e := range list {
		m := e.(map[string]any)
		if v, ok := m["value"]; ok {
			out[m["name"].(string)] = v
		} else {
			out[m["name"].(string)] = m["valueFrom"]
		}
	}
	return out
}

func num(v any) int64 {
	switch n := v.(type) {
	case uint64:
		return int64(n)
	case int64:
		return n
	case int:
		return int64(n)
	case float64:
		return int64(n)
	}
	return -1
}

func TestHelmLint(t *testing.T) {
	t.Parallel()
	for _, extra := range [][]string{nil, {"-f", filepath.Join(chart(t), "values-postgres.yaml")},
		{"--set", "ingress.enabled=true,metrics.serviceMonitor.enabled=true"}} {
		args := append([]string{"lint", "--strict", chart(t)}, extra...)
		if out, err := helm(t, args...); err != nil {
			t.Errorf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func TestHelmTemplateSQLite(t *testing.T) {
	t.Parallel()
	docs := render(t)
	sts, ok := docs["StatefulSet/rel-herald"]
	if !ok {
		t.Fatalf("no StatefulSet; rendered %v", keys(docs))
	}
	if n := num(get(sts, "spec", "replicas")); n != 1 {
		t.Errorf("replicas = %d, want 1 with SQLite", n)
	}
	if get(sts, "spec", "volumeClaimTemplates", 0, "metadata", "name") != "data" {
		t.Errorf("no data volumeClaimTemplate: %v", get(sts, "spec", "volumeClaimTemplates"))
	}
	c := container(t, sts)
	for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz", "startupProbe": "/healthz"} {
		if got := get(c, probe, "httpGet", "path"); got != path {
			t.Errorf("%s path = %v, want %s", probe, got, path)
		}
	}
	e := env(c)
	if e["HERALD_LISTEN"] != "0.0.0.0:8080" || e["HERALD_DATA_DIR"] != "/data" {
		t.Errorf("env: %v", e)
	}
	if get(e["HERALD_NODE_ID"], "fieldRef", "fieldPath") != "metadata.name" {
		t.Errorf("HERALD_NODE_ID = %v, want the pod name", e["HERALD_NODE_ID"])
	}
	if get(e["HERALD_SECRET_KEY"], "secretKeyRef", "name") != "rel-herald" || get(e["HERALD_SECRET_KEY"], "secretKeyRef", "key") != "secret-key" {
		t.Errorf("HERALD_SECRET_KEY = %v, want the chart's Secret", e["HERALD_SECRET_KEY"])
	}
	if _, ok := e["HERALD_DATABASE_URL"]; ok {
		t.Errorf("HERALD_DATABASE_URL set with SQLite")
	}
	if get(c, "securityContext", "readOnlyRootFilesystem") != true || get(c, "securityContext", "allowPrivilegeEscalation") != false {
		t.Errorf("container securityContext: %v", c["securityContext"])
	}
	if get(sts, "spec", "template", "spec", "securityContext", "runAsNonRoot") != true {
		t.Errorf("pod securityContext: %v", get(sts, "spec", "template", "spec", "securityContext"))
	}
	if get(c, "resources", "requests", "memory") == nil {
		t.Errorf("no resources: %v", c["resources"])
	}
	sec, ok := docs["Secret/rel-herald"]
	if !ok {
		t.Fatalf("no generated Secret; rendered %v", keys(docs))
	}
	if key, _ := get(sec, "data", "secret-key").(string); len(key) < 40 {
		t.Errorf("generated secret-key %q", key)
	}
	if _, ok := docs["Service/rel-herald"]; !ok {
		t.Errorf("no Service")
	}
	for k := range docs {
		if strings.HasPrefix(k, "ServiceMonitor/") || strings.HasPrefix(k, "Ingress/") {
			t.Errorf("%s rendered though not enabled", k)
		}
	}

	// Two replicas on SQLite are refused.
	if _, err := helm(t, "template", "rel", chart(t), "--set", "replicaCount=2"); err == nil || !strings.Contains(err.Error(), "needs database.driver postgres") {
		t.Errorf("replicaCount=2 with SQLite: %v", err)
	}
}

func TestHelmTemplatePostgres(t *testing.T) {
	t.Parallel()
	docs := render(t, "-f=values-postgres.yaml", "secretKey.existingSecret=herald-key",
		"metrics.serviceMonitor.enabled=true", "ingress.enabled=true", "allowCIDRs={10.0.0.0/8,192.168.0.0/16}")
	sts := docs["StatefulSet/rel-herald"]
	if n := num(get(sts, "spec", "replicas")); n != 3 {
		t.Errorf("replicas = %d, want 3", n)
	}
	if v := get(sts, "spec", "volumeClaimTemplates"); v != nil {
		t.Errorf("volumeClaimTemplates with PostgreSQL: %v", v)
	}
	e := env(container(t, sts))
	if get(e["HERALD_DATABASE_URL"], "secretKeyRef", "name") != "herald-db" || get(e["HERALD_DATABASE_URL"], "secretKeyRef", "key") != "database-url" {
		t.Errorf("HERALD_DATABASE_URL = %v", e["HERALD_DATABASE_URL"])
	}
	if e["HERALD_STORAGE_DRIVER"] != "postgres" || e["HERALD_ALLOW_CIDRS"] != "10.0.0.0/8,192.168.0.0/16" {
		t.Errorf("env: %v", e)
	}
	if get(e["HERALD_SECRET_KEY"], "secretKeyRef", "name") != "herald-key" {
		t.Errorf("HERALD_SECRET_KEY = %v, want the existing Secret", e["HERALD_SECRET_KEY"])
	}
	if _, ok := docs["Secret/rel-herald"]; ok {
		t.Errorf("a Secret rendered though every secret is an existing one")
	}
	sm, ok := docs["ServiceMonitor/rel-herald"]
	if !ok {
		t.Fatalf("no ServiceMonitor when enabled; rendered %v", keys(docs))
	}
	if get(sm, "spec", "endpoints", 0, "path") != "/metrics" || get(sm, "spec", "endpoints", 0, "port") != "http" {
		t.Errorf("ServiceMonitor endpoints: %v", get(sm, "spec", "endpoints"))
	}
	if get(docs["Ingress/rel-herald"], "spec", "rules", 0, "http", "paths", 0, "backend", "service", "name") != "rel-herald" {
		t.Errorf("Ingress: %v", docs["Ingress/rel-herald"])
	}

	// PostgreSQL without a URL is refused; a url goes into the chart's Secret.
	if _, err := helm(t, "template", "rel", chart(t), "--set", "database.driver=postgres"); err == nil || !strings.Contains(err.Error(), "database.existingSecret") {
		t.Errorf("postgres without a URL: %v", err)
	}
	docs = render(t, "database.driver=postgres", "database.url=postgres://h@db/h", "replicaCount=2")
	if _, ok := get(docs["Secret/rel-herald"], "data", "database-url").(string); !ok {
		t.Errorf("database.url not in the Secret: %v", docs["Secret/rel-herald"])
	}
}

func keys(m map[string]manifest) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// The Dockerfile cannot be built here (no Docker engine): check the lines
// that make it a static, non-root, distroless image.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(root(t), "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, re := range []string{
		`(?m)^FROM golang:1\.26 AS build$`,
		`(?m)^RUN CGO_ENABLED=0 go build .* \./cmd/herald`,
		`(?m)^FROM gcr\.io/distroless/static-debian12:nonroot$`,
		`(?m)^USER 65532:65532$`,
		`HERALD_LISTEN=0\.0\.0\.0:8080`,
		`HERALD_DATA_DIR=/data`,
		`(?m)^VOLUME \["/data"\]$`,
		`(?m)^ENTRYPOINT \["/usr/local/bin/herald"\]$`,
	} {
		if !regexp.MustCompile(re).MatchString(s) {
			t.Errorf("Dockerfile lacks %s", re)
		}
	}
	if regexp.MustCompile(`(?m)^USER (root|0)\b`).MatchString(s) {
		t.Error("Dockerfile runs as root")
	}
}

// The systemd unit verifies (systemd-analyze verify, with ExecStart pointed
// at an executable: verify checks it exists) and keeps its hardening.
func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join(root(t), "deploy", "systemd", "herald.service"))
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	for _, line := range []string{"DynamicUser=yes", "StateDirectory=herald", "NoNewPrivileges=yes", "ProtectSystem=strict",
		"PrivateTmp=yes", "EnvironmentFile=-/etc/herald/herald.env", "ExecStart=/usr/local/bin/herald serve"} {
		if !strings.Contains(unit, "\n"+line) {
			t.Errorf("unit lacks %s", line)
		}
	}
	analyze := testenv.LookPath(t, "systemd-analyze", "install systemd (apt-get install systemd)", "systemd-analyze")
	dir := t.TempDir()
	bin := filepath.Join(dir, "herald")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "herald.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(unit, "/usr/local/bin/herald", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}
