// Package config loads Herald's settings from herald.yaml and HERALD_*
// environment variables (environment wins), applies defaults and validates.
package config

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// Config is the server configuration. The zero value plus Defaults() runs on
// SQLite in ./herald-data, listening on 127.0.0.1:8080.
type Config struct {
	// Listen is the API and console address. Defaults to 127.0.0.1:8080.
	Listen string `yaml:"listen"`
	// DataDir holds the SQLite database and the generated secret key.
	// Defaults to ./herald-data.
	DataDir string `yaml:"data_dir"`
	// AdminToken is the bootstrap platform-admin token. When empty, one is
	// generated at first start and printed once.
	AdminToken string `yaml:"admin_token"`
	// SecretKey encrypts secrets at rest (32 bytes, base64 or hex). When empty
	// a key is generated into DataDir/secret.key.
	SecretKey string `yaml:"secret_key"`

	// NodeID names this node among the nodes sharing a database; its lease
	// tokens start with it, so a restarted node releases its predecessor's
	// deliveries at once and live nodes release a dead node's. It must be
	// stable across restarts and unique per node (HERALD_NODE_ID). Defaults
	// to <hostname>/<listen> (PostgreSQL) or <hostname>/<data_dir, absolute>
	// (SQLite): two nodes on one host then differ by address.
	NodeID string `yaml:"node_id"`

	// Retention is how long finished deliveries and their attempts are kept.
	// Defaults to 720h (30 days).
	Retention string `yaml:"retention"`

	Server   Server   `yaml:"server"`
	Storage  Storage  `yaml:"storage"`
	Network  Network  `yaml:"network"`
	Delivery Delivery `yaml:"delivery"`
	Ingest   Ingest   `yaml:"ingest"`
}

// Server is how the API and console face their clients.
type Server struct {
	// TrustedProxies are the reverse proxies (IPs or CIDRs) whose
	// X-Forwarded-For and X-Forwarded-Proto headers are believed: the client
	// address is the rightmost X-Forwarded-For entry that is not a trusted
	// proxy, and "X-Forwarded-Proto: https" makes cookies Secure. Defaults to
	// none (HERALD_TRUSTED_PROXIES, comma separated).
	TrustedProxies []string `yaml:"trusted_proxies"`
	// TLSCertFile and TLSKeyFile are a PEM certificate (chain) and its key:
	// with both set, Herald serves HTTPS itself. Re-read when they change.
	// (HERALD_TLS_CERT_FILE, HERALD_TLS_KEY_FILE)
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
}

// TLS reports whether Herald serves HTTPS itself.
func (s Server) TLS() bool { return s.TLSCertFile != "" && s.TLSKeyFile != "" }

// Storage selects the database.
type Storage struct {
	// Driver is "sqlite" (default) or "postgres".
	Driver string `yaml:"driver"`
	// DatabaseURL is the PostgreSQL DSN (HERALD_DATABASE_URL).
	DatabaseURL string `yaml:"database_url"`
}

// Network holds outbound network policy.
type Network struct {
	// AllowCIDRs are let through the SSRF guard (e.g. 127.0.0.0/8). By default
	// loopback, private, link-local and similar ranges are refused.
	AllowCIDRs []string `yaml:"allow_cidrs"`
}

// Delivery tunes the delivery engine.
type Delivery struct {
	// RetrySchedule is the list of waits between attempts; the first attempt
	// is always at once. Defaults to 5s,5m,30m,2h,5h,10h,10h.
	RetrySchedule []string `yaml:"retry_schedule"`
	// Workers bounds concurrent outbound requests. Defaults to 256.
	Workers int `yaml:"workers"`
	// PerWebhookConcurrency caps concurrent requests to one webhook. Defaults to 64.
	PerWebhookConcurrency int `yaml:"per_webhook_concurrency"`
	// Lease is how long a claimed delivery stays reserved for this node; it
	// is renewed every lease/4, so it bounds how long a dead node's rows wait.
	// Defaults to 10s.
	Lease string `yaml:"lease"`
	// DisableAfter disables a webhook that has failed without a success for
	// this long. Defaults to 120h (5 days).
	DisableAfter string `yaml:"disable_after"`
}

// Ingest tunes the event API.
type Ingest struct {
	// MaxBodyBytes limits a POST /events body. Defaults to 256 KiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// RateLimit is how many events per second one API token may post to
	// /events and /alertmanager; above it the API answers 429 with
	// Retry-After. 0 turns the limit off. Defaults to 10000
	// (HERALD_INGEST_RATE_LIMIT).
	RateLimit float64 `yaml:"rate_limit"`
	// RateBurst is how many events a token may post at once after a quiet
	// spell; a batch costs one per event, at most the burst. Defaults to 20000
	// (HERALD_INGEST_RATE_BURST).
	RateBurst int `yaml:"rate_burst"`
	// AlertmanagerExternalURL is the externalURL sent to alertmanager-format
	// webhooks for Alertmanager notifications that carry none
	// (HERALD_ALERTMANAGER_EXTERNAL_URL). An absolute http(s) URL, or empty.
	AlertmanagerExternalURL string `yaml:"alertmanager_external_url"`
}

// Defaults returns the configuration used when nothing is set.
func Defaults() Config {
	return Config{
		Listen:    "127.0.0.1:8080",
		DataDir:   "./herald-data",
		Retention: "720h",
		Storage:   Storage{Driver: "sqlite"},
		Delivery: Delivery{
			Workers:               256,
			PerWebhookConcurrency: 64,
			Lease:                 "10s",
			DisableAfter:          "120h",
		},
		Ingest: Ingest{MaxBodyBytes: 256 << 10, RateLimit: 10000, RateBurst: 20000},
	}
}

// Load reads path (if not empty; a missing file is an error only when the
// path was given explicitly), then the environment, over Defaults().
func Load(path string, getenv func(string) string) (Config, error) {
	c := Defaults()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("read config: %w", err)
		}
		if err := yaml.UnmarshalWithOptions(b, &c, yaml.Strict()); err != nil {
			return c, fmt.Errorf("%s: %s", path, yaml.FormatError(err, false, true))
		}
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	set := func(dst *string, name string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	set(&c.Listen, "HERALD_LISTEN")
	set(&c.DataDir, "HERALD_DATA_DIR")
	set(&c.AdminToken, "HERALD_ADMIN_TOKEN")
	set(&c.SecretKey, "HERALD_SECRET_KEY")
	if v := getenv("HERALD_TRUSTED_PROXIES"); v != "" {
		c.Server.TrustedProxies = splitList(v)
	}
	set(&c.Server.TLSCertFile, "HERALD_TLS_CERT_FILE")
	set(&c.Server.TLSKeyFile, "HERALD_TLS_KEY_FILE")
	set(&c.NodeID, "HERALD_NODE_ID")
	set(&c.Storage.Driver, "HERALD_STORAGE_DRIVER")
	set(&c.Storage.DatabaseURL, "HERALD_DATABASE_URL")
	set(&c.Ingest.AlertmanagerExternalURL, "HERALD_ALERTMANAGER_EXTERNAL_URL")
	if v := getenv("HERALD_ALLOW_CIDRS"); v != "" {
		c.Network.AllowCIDRs = splitList(v)
	}
	if v := getenv("HERALD_RETRY_SCHEDULE"); v != "" {
		c.Delivery.RetrySchedule = splitList(v)
	}
	set(&c.Delivery.Lease, "HERALD_LEASE")
	set(&c.Retention, "HERALD_RETENTION")
	if v := getenv("HERALD_WORKERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return c, fmt.Errorf("HERALD_WORKERS: %q is not a number", v)
		}
		c.Delivery.Workers = n
	}
	if v := getenv("HERALD_INGEST_RATE_LIMIT"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return c, fmt.Errorf("HERALD_INGEST_RATE_LIMIT: %q is not a number of events per second (0 = no limit)", v)
		}
		c.Ingest.RateLimit = f
	}
	if v := getenv("HERALD_INGEST_RATE_BURST"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return c, fmt.Errorf("HERALD_INGEST_RATE_BURST: %q is not a number of events", v)
		}
		c.Ingest.RateBurst = n
	}
	if c.Storage.DatabaseURL != "" && getenv("HERALD_STORAGE_DRIVER") == "" && c.Storage.Driver == "sqlite" && path == "" {
		c.Storage.Driver = "postgres"
	}
	return c, c.Validate()
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Validate checks every setting and names the one that is wrong.
func (c Config) Validate() error {
	var errs []error
	if c.Listen == "" {
		errs = append(errs, errors.New("listen: must not be empty"))
	}
	if _, err := c.TrustedProxyPrefixes(); err != nil {
		errs = append(errs, err)
	}
	if (c.Server.TLSCertFile == "") != (c.Server.TLSKeyFile == "") {
		errs = append(errs, errors.New("server.tls_cert_file (HERALD_TLS_CERT_FILE) and server.tls_key_file (HERALD_TLS_KEY_FILE): set both to serve HTTPS, or neither"))
	}
	if c.Storage.Driver != "sqlite" && c.Storage.Driver != "postgres" {
		errs = append(errs, fmt.Errorf("storage.driver: %q is not sqlite or postgres", c.Storage.Driver))
	}
	if c.Storage.Driver == "postgres" && c.Storage.DatabaseURL == "" {
		errs = append(errs, errors.New("storage.database_url (HERALD_DATABASE_URL) is required with the postgres driver"))
	}
	if c.Storage.Driver == "postgres" && c.SecretKey == "" {
		errs = append(errs, errors.New("secret_key (HERALD_SECRET_KEY) is required with the postgres driver: every node must use the same key (generate one with: openssl rand -base64 32)"))
	}
	if len(c.NodeID) > 200 || strings.ContainsFunc(c.NodeID, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
		errs = append(errs, errors.New("node_id (HERALD_NODE_ID): at most 200 characters, no spaces or control characters"))
	}
	if c.Storage.Driver == "sqlite" && c.DataDir == "" {
		errs = append(errs, errors.New("data_dir: must not be empty"))
	}
	if _, err := c.AllowPrefixes(); err != nil {
		errs = append(errs, err)
	}
	if u := c.Ingest.AlertmanagerExternalURL; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("ingest.alertmanager_external_url: %q is not an absolute http or https URL", u))
		}
	}
	if _, err := c.RetryWaits(); err != nil {
		errs = append(errs, err)
	}
	if c.Delivery.Workers < 1 {
		errs = append(errs, errors.New("delivery.workers: must be at least 1"))
	}
	if c.Delivery.PerWebhookConcurrency < 1 {
		errs = append(errs, errors.New("delivery.per_webhook_concurrency: must be at least 1"))
	}
	if _, err := parseDur("delivery.lease", c.Delivery.Lease); err != nil {
		errs = append(errs, err)
	}
	if _, err := parseDur("retention", c.Retention); err != nil {
		errs = append(errs, err)
	}
	if _, err := parseDur("delivery.disable_after", c.Delivery.DisableAfter); err != nil {
		errs = append(errs, err)
	}
	if c.Ingest.MaxBodyBytes < 1024 {
		errs = append(errs, errors.New("ingest.max_body_bytes: must be at least 1024"))
	}
	if c.Ingest.RateLimit < 0 || math.IsNaN(c.Ingest.RateLimit) || math.IsInf(c.Ingest.RateLimit, 0) {
		errs = append(errs, errors.New("ingest.rate_limit (HERALD_INGEST_RATE_LIMIT): must be a number of events per second, 0 or more (0 = no limit)"))
	}
	if c.Ingest.RateBurst < 0 {
		errs = append(errs, errors.New("ingest.rate_burst (HERALD_INGEST_RATE_BURST): must not be negative (0 = twice the rate)"))
	}
	return errors.Join(errs...)
}

// AllowPrefixes parses Network.AllowCIDRs.
func (c Config) AllowPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.Network.AllowCIDRs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			if a, err2 := netip.ParseAddr(s); err2 == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			} else {
				return nil, fmt.Errorf("network.allow_cidrs (HERALD_ALLOW_CIDRS): %q is not a CIDR like 127.0.0.0/8", s)
			}
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// TrustedProxyPrefixes parses Server.TrustedProxies (IPs or CIDRs;
// IPv4-mapped IPv6 forms count as IPv4).
func (c Config) TrustedProxyPrefixes() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.Server.TrustedProxies {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, err2 := netip.ParseAddr(s)
			if err2 != nil || a.Zone() != "" {
				return nil, fmt.Errorf("server.trusted_proxies (HERALD_TRUSTED_PROXIES): %q is not an IP address or a CIDR like 10.0.0.0/8", s)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if a := p.Addr(); a.Is4In6() {
			if p.Bits() < 96 {
				return nil, fmt.Errorf("server.trusted_proxies (HERALD_TRUSTED_PROXIES): %q mixes IPv6 and IPv4-mapped addresses; write the IPv4 range", s)
			}
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// RetryWaits parses Delivery.RetrySchedule; nil means the default schedule.
func (c Config) RetryWaits() ([]time.Duration, error) {
	if len(c.Delivery.RetrySchedule) == 0 {
		return nil, nil
	}
	out := make([]time.Duration, 0, len(c.Delivery.RetrySchedule))
	for _, s := range c.Delivery.RetrySchedule {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("delivery.retry_schedule (HERALD_RETRY_SCHEDULE): %q is not a duration like 5s or 2h", s)
		}
		out = append(out, d)
	}
	return out, nil
}

// Node returns NodeID, or the default derived from the host name and the
// listen address (PostgreSQL) or the data directory (SQLite).
func (c Config) Node() string {
	if c.NodeID != "" {
		return c.NodeID
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "herald"
	}
	where := c.Listen
	if c.Storage.Driver == "sqlite" {
		where = c.DataDir
		if abs, err := filepath.Abs(c.DataDir); err == nil {
			where = abs
		}
	}
	return strings.Map(func(r rune) rune {
		if r < 0x21 || r == 0x7f {
			return '_'
		}
		return r
	}, host+"/"+where)
}

// LeaseDuration returns Delivery.Lease parsed.
func (c Config) LeaseDuration() time.Duration {
	d, _ := parseDur("", c.Delivery.Lease)
	return d
}

// RetentionDuration returns Retention parsed.
func (c Config) RetentionDuration() time.Duration {
	d, _ := parseDur("", c.Retention)
	return d
}

// DisableAfterDuration returns Delivery.DisableAfter parsed.
func (c Config) DisableAfterDuration() time.Duration {
	d, _ := parseDur("", c.Delivery.DisableAfter)
	return d
}

func parseDur(field, s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s: %q is not a positive duration like 2m", field, s)
	}
	return d, nil
}
