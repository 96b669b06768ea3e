package app_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/herald-hq/herald/internal/config"
	"github.com/herald-hq/herald/internal/testenv"
)

// scrapeResult is one /metrics answer: the metric families (from # TYPE)
// and every sample by series ("name{labels}").
type scrapeResult struct {
	types   map[string]string
	samples map[string]float64
}

func scrape(t *testing.T, base string) scrapeResult {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d: %s", resp.StatusCode, raw)
	}
	r := scrapeResult{types: map[string]string{}, samples: map[string]float64{}}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			r.types[f[2]] = f[3]
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		r.samples[line[:i]] = v
	}
	return r
}

// exports reports whether the scrape has metric name, a histogram's or
// summary's _bucket/_sum/_count series included.
func (r scrapeResult) exports(name string) bool {
	if _, ok := r.types[name]; ok {
		return true
	}
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suf); ok {
			if typ := r.types[base]; typ == "histogram" || (typ == "summary" && suf != "_bucket") {
				return true
			}
		}
	}
	return false
}

// waitMetric polls /metrics until series has value want (the backlog is
// read from the store at most every 5s, so it lags behind).
func waitMetric(t *testing.T, base, series string, want float64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, ok := scrape(t, base).samples[series]
		if ok && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %v (present %v), want %v", series, got, ok, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The operator's metrics exist from the start (at 0) and count what
// happens: events accepted, duplicate and rejected, the backlog held while
// paused, webhooks by state, a webhook switched off by a 410.
func TestMetricsCountWhatHappens(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	first := scrape(t, h.url)
	for _, s := range []string{
		`herald_delivery_backlog{state="pending"}`, `herald_delivery_backlog{state="retrying"}`, `herald_delivery_backlog{state="held"}`,
		`herald_delivery_oldest_due_seconds`, `herald_deliveries_in_flight`,
		`herald_webhooks{state="enabled"}`, `herald_webhooks{state="disabled"}`,
		`herald_events_ingested_total{result="accepted"}`, `herald_events_ingested_total{result="duplicate"}`,
		`herald_events_ingested_total{result="rejected"}`, `herald_events_ingested_total{result="rate_limited"}`,
		`herald_webhook_auto_disabled_total`, `herald_challenges_total{result="ok"}`, `herald_challenges_total{result="wrong_token"}`,
		`herald_lease_reclaims_total{reason="restart"}`, `herald_lease_reclaims_total{reason="dead_node"}`,
		`herald_lease_reclaims_total{reason="expired"}`,
	} {
		if v, ok := first.samples[s]; !ok || v != 0 {
			t.Errorf("%s = %v (present %v), want 0 from the start", s, v, ok)
		}
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "herald_delivery_attempt_seconds"} {
		if !first.exports(name) {
			t.Errorf("%s is not exported", name)
		}
	}

	// Paused: deliveries are held.
	h.mustDo(http.StatusOK, "PATCH", "/api/v1/settings", map[string]any{"webhooks_enabled": false}, nil)
	rc := newReceiver(t, nil)
	h.createWebhook(map[string]any{"url": rc.URL})
	h.sendEvents(map[string]any{"id": "m1", "type": "image.push", "project": "p1"}, map[string]any{"id": "m2", "type": "image.push", "project": "p1"})
	h.sendEvents(map[string]any{"id": "m1", "type": "image.push", "project": "p1"})
	if code, raw := h.do(adminToken, "POST", "/api/v1/events", `{"type":`, nil); code != http.StatusBadRequest {
		t.Fatalf("bad JSON: %d %s", code, raw)
	}
	s := scrape(t, h.url)
	for series, want := range map[string]float64{
		`herald_events_ingested_total{result="accepted"}`:  2,
		`herald_events_ingested_total{result="duplicate"}`: 1,
		`herald_events_ingested_total{result="rejected"}`:  1,
	} {
		if s.samples[series] != want {
			t.Errorf("%s = %v, want %v", series, s.samples[series], want)
		}
	}
	waitMetric(t, h.url, `herald_delivery_backlog{state="held"}`, 2)
	waitMetric(t, h.url, `herald_webhooks{state="enabled"}`, 1)

	// Resumed: a receiver that answers 410 Gone gets its webhook disabled.
	gone := newReceiver(t, func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) })
	h.createWebhook(map[string]any{"url": gone.URL, "event_types": []string{"chart.*"}})
	h.mustDo(http.StatusOK, "PATCH", "/api/v1/settings", map[string]any{"webhooks_enabled": true}, nil)
	h.sendEvents(map[string]any{"id": "m3", "type": "chart.push", "project": "p1"})
	waitMetric(t, h.url, `herald_webhook_auto_disabled_total`, 1)
	waitMetric(t, h.url, `herald_webhooks{state="disabled"}`, 1)
	waitMetric(t, h.url, `herald_delivery_backlog{state="held"}`, 0)
}

// Events over the token's rate limit count as rate_limited.
func TestMetricsRateLimited(t *testing.T) {
	t.Parallel()
	h := start(t, func(c *config.Config) { c.Ingest.RateLimit, c.Ingest.RateBurst = 0.01, 2 })
	h.sendEvents(map[string]any{"type": "a.b"}, map[string]any{"type": "a.b"})
	batch := map[string]any{"events": []map[string]any{{"type": "a.b"}, {"type": "a.b"}, {"type": "a.b"}}}
	if code, raw := h.do(adminToken, "POST", "/api/v1/events", batch, nil); code != http.StatusTooManyRequests {
		t.Fatalf("over the burst: %d %s", code, raw)
	}
	s := scrape(t, h.url)
	if got := s.samples[`herald_events_ingested_total{result="rate_limited"}`]; got != 3 {
		t.Errorf("rate_limited = %v, want 3", got)
	}
	if got := s.samples[`herald_events_ingested_total{result="accepted"}`]; got != 2 {
		t.Errorf("accepted = %v, want 2", got)
	}
}

// repoFile is a path from the repository root.
func repoFile(parts ...string) string {
	return filepath.Join(append([]string{"..", ".."}, parts...)...)
}

var (
	promStrings  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	promMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promRanges   = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	promKeywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true,
		"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true, "inf": true, "nan": true}
)

// promMetrics returns the metric names a PromQL expression selects: the
// identifiers left once strings, label matchers, ranges and grouping
// clauses are removed, that are not functions, keywords or parts of numbers.
func promMetrics(expr string) []string {
	if inner, ok := strings.CutPrefix(strings.TrimSpace(expr), "label_values("); ok {
		expr = strings.SplitN(inner, ",", 2)[0]
	}
	expr = promStrings.ReplaceAllString(expr, `""`)
	expr = promMatchers.ReplaceAllString(expr, " ")
	expr = promRanges.ReplaceAllString(expr, " ")
	expr = promGrouping.ReplaceAllString(expr, " ")
	var out []string
	for _, loc := range promIdent.FindAllStringIndex(expr, -1) {
		name := expr[loc[0]:loc[1]]
		if loc[0] > 0 && strings.ContainsAny(expr[loc[0]-1:loc[0]], "0123456789.$") {
			continue // 1e3, $var
		}
		if rest := strings.TrimLeft(expr[loc[1]:], " \t\n"); strings.HasPrefix(rest, "(") || promKeywords[strings.ToLower(name)] {
			continue
		}
		out = append(out, name)
	}
	return out
}

func TestPromMetrics(t *testing.T) {
	for expr, want := range map[string][]string{
		`sum by (le) (rate(herald_delivery_attempt_seconds_bucket{job=~"$job"}[$__rate_interval]))`: {"herald_delivery_attempt_seconds_bucket"},
		`a_total / on (job) b_total > 1e3 and c unless d offset 5m`:                                 {"a_total", "b_total", "c", "d"},
		`label_values(herald_webhooks, job)`:                                                        {"herald_webhooks"},
		`histogram_quantile(0.95, x_bucket{le!="+Inf"})`:                                            {"x_bucket"},
	} {
		if got := promMetrics(expr); !slices.Equal(got, want) {
			t.Errorf("promMetrics(%q) = %q, want %q", expr, got, want)
		}
	}
}

// readmeMetrics returns the metric names in README's "Metrics" table.
func readmeMetrics(t *testing.T) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile(repoFile("README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## Metrics\n")
	if !ok {
		t.Fatal("README.md has no ## Metrics section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	out := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_:]+)`").FindAllStringSubmatch(section, -1) {
		out[m[1]] = true
	}
	if len(out) < 10 {
		t.Fatalf("README's Metrics table lists %d metrics", len(out))
	}
	return out
}

// documented reports whether name (or the histogram it is a series of) is
// in README's table; go_* and process_* are the standard collectors,
// documented as a group.
func documented(doc map[string]bool, name string) bool {
	if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") {
		return true
	}
	for _, suf := range []string{"", "_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suf); ok && doc[base] {
			return true
		}
	}
	return false
}

// Every Herald metric a running server exports is in README's table, and
// every metric the Grafana dashboard and the alerting rules query is
// exported by a running Herald (or documented as fed by the delivery
// engine).
func TestDashboardAndAlertsUseExportedMetrics(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	s := scrape(t, h.url)
	doc := readmeMetrics(t)
	for name := range s.types {
		if strings.HasPrefix(name, "herald_") && !doc[name] {
			t.Errorf("%s is exported but not in README's Metrics table", name)
		}
	}
	for name := range doc {
		if !s.exports(name) {
			t.Errorf("README documents %s, which a running Herald does not export", name)
		}
	}
	check := func(where, expr string) {
		names := promMetrics(expr)
		if len(names) == 0 {
			t.Errorf("%s: no metric found in %q", where, expr)
		}
		for _, n := range names {
			if !s.exports(n) {
				t.Errorf("%s: %s is not exported by Herald (in %q)", where, n, expr)
			}
			if !documented(doc, n) {
				t.Errorf("%s: %s is not in README's Metrics table", where, n)
			}
		}
	}

	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Type       string `json:"type"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	raw, err := os.ReadFile(repoFile("deploy", "grafana", "herald.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("deploy/grafana/herald.json: %v", err)
	}
	exprs := 0
	for _, p := range dash.Panels {
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			exprs++
			check("dashboard panel "+strconv.Quote(p.Title), tg.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		if v.Type == "query" {
			check("dashboard variable "+v.Name, v.Definition)
		}
	}
	if exprs < 20 {
		t.Errorf("the dashboard has %d queries", exprs)
	}

	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	raw, err = os.ReadFile(repoFile("deploy", "prometheus", "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatalf("alerts.yml: %v", err)
	}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			check("alert "+r.Alert, r.Expr)
		}
	}
	if n < 5 {
		t.Errorf("alerts.yml has %d rules", n)
	}
}

// promtool accepts the alerting rules and their unit tests pass
// (deploy/prometheus/alerts_test.yml).
func TestPrometheusRules(t *testing.T) {
	t.Parallel()
	promtool := testenv.LookPath(t, "promtool", "install Debian's prometheus package (make deps does)", "promtool")
	dir := repoFile("deploy", "prometheus")
	for _, args := range [][]string{{"check", "rules", "alerts.yml"}, {"test", "rules", "alerts_test.yml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
