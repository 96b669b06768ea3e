package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || c.DataDir != "./herald-data" || c.Storage.Driver != "sqlite" {
		t.Fatalf("defaults: %+v", c)
	}
	if w, _ := c.RetryWaits(); w != nil {
		t.Fatalf("default retry waits should be nil (the policy's default schedule), got %v", w)
	}
	if c.LeaseDuration() != 10*time.Second || c.DisableAfterDuration() != 120*time.Hour {
		t.Fatalf("lease %v disable_after %v", c.LeaseDuration(), c.DisableAfterDuration())
	}
}

func TestFileThenEnv(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "herald.yaml")
	os.WriteFile(path, []byte(`
listen: 0.0.0.0:9000
data_dir: /var/lib/herald
network:
  allow_cidrs: [10.0.0.0/8]
delivery:
  retry_schedule: [10s, 1m]
  workers: 8
`), 0o600)
	c, err := Load(path, env(map[string]string{
		"HERALD_LISTEN":         "127.0.0.1:7000",
		"HERALD_ALLOW_CIDRS":    "127.0.0.0/8, ::1/128",
		"HERALD_RETRY_SCHEDULE": "1s,1s,1s",
		"HERALD_ADMIN_TOKEN":    "tok",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:7000" {
		t.Errorf("env did not override listen: %s", c.Listen)
	}
	if c.DataDir != "/var/lib/herald" || c.Delivery.Workers != 8 || c.AdminToken != "tok" {
		t.Errorf("file values lost: %+v", c)
	}
	p, err := c.AllowPrefixes()
	if err != nil || len(p) != 2 || p[0].String() != "127.0.0.0/8" {
		t.Errorf("allow prefixes %v %v", p, err)
	}
	w, _ := c.RetryWaits()
	if len(w) != 3 || w[0] != time.Second {
		t.Errorf("retry waits %v", w)
	}
}

func TestInvalid(t *testing.T) {
	t.Parallel()
	cases := map[string]map[string]string{
		"HERALD_ALLOW_CIDRS":    {"HERALD_ALLOW_CIDRS": "not-a-cidr"},
		"HERALD_RETRY_SCHEDULE": {"HERALD_RETRY_SCHEDULE": "1s,soon"},
		"HERALD_DATABASE_URL":   {"HERALD_STORAGE_DRIVER": "postgres"},
		"HERALD_SECRET_KEY":     {"HERALD_DATABASE_URL": "postgres://x@127.0.0.1/db"},
		"storage.driver":        {"HERALD_STORAGE_DRIVER": "mysql"},
		"delivery.lease":        {"HERALD_LEASE": "-1s"},
		"HERALD_WORKERS":        {"HERALD_WORKERS": "many"},
	}
	for want, e := range cases {
		_, err := Load("", env(e))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: error %v does not name %s", e, err, want)
		}
	}
	path := filepath.Join(t.TempDir(), "herald.yaml")
	os.WriteFile(path, []byte("lisen: x\n"), 0o600)
	if _, err := Load(path, env(nil)); err == nil || !strings.Contains(err.Error(), "lisen") {
		t.Errorf("unknown key in file: %v", err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), env(nil)); err == nil {
		t.Error("missing explicit config file accepted")
	}
}

func TestIngestRateLimit(t *testing.T) {
	t.Parallel()
	c, err := Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Ingest.RateLimit != 10000 || c.Ingest.RateBurst != 20000 {
		t.Fatalf("default ingest rate %v burst %d, want 10000 and 20000", c.Ingest.RateLimit, c.Ingest.RateBurst)
	}
	c, err = Load("", env(map[string]string{"HERALD_INGEST_RATE_LIMIT": "0"}))
	if err != nil || c.Ingest.RateLimit != 0 {
		t.Fatalf("HERALD_INGEST_RATE_LIMIT=0 (off): %v %v", c.Ingest.RateLimit, err)
	}
	c, err = Load("", env(map[string]string{"HERALD_INGEST_RATE_LIMIT": "2.5", "HERALD_INGEST_RATE_BURST": "10"}))
	if err != nil || c.Ingest.RateLimit != 2.5 || c.Ingest.RateBurst != 10 {
		t.Fatalf("env: %v %d %v", c.Ingest.RateLimit, c.Ingest.RateBurst, err)
	}
	path := filepath.Join(t.TempDir(), "herald.yaml")
	os.WriteFile(path, []byte("ingest:\n  rate_limit: 50\n  rate_burst: 60\n"), 0o600)
	c, err = Load(path, env(nil))
	if err != nil || c.Ingest.RateLimit != 50 || c.Ingest.RateBurst != 60 {
		t.Fatalf("file: %v %d %v", c.Ingest.RateLimit, c.Ingest.RateBurst, err)
	}
	for k, v := range map[string]string{"HERALD_INGEST_RATE_LIMIT": "-1", "HERALD_INGEST_RATE_BURST": "-5"} {
		if _, err := Load("", env(map[string]string{k: v})); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: %v", k, v, err)
		}
	}
	if _, err := Load("", env(map[string]string{"HERALD_INGEST_RATE_LIMIT": "fast"})); err == nil {
		t.Error("a rate that is not a number was accepted")
	}
}
