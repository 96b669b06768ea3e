// Package storetest is the conformance suite of store.Store: every backend
// (SQLite, PostgreSQL) runs the same tests, so the rules written in store.go's
// doc comments hold whichever database is underneath.
//
// A backend's test calls Run with a constructor of empty stores:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { ... })
//	}
//
// Times in the suite are whole milliseconds in UTC, a precision every backend
// keeps; stores must return times in UTC.
package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

// Run runs every test of the suite as a parallel subtest. newStore is called
// once per subtest and must return an empty, migrated store; it should
// register its own cleanup (closing the store, dropping the schema).
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	groups := []struct {
		name  string
		tests map[string]func(t *testing.T, b *bundle)
	}{
		{"Settings", settingsTests},
		{"Tokens", tokenTests},
		{"Webhooks", webhookTests},
		{"Ingest", ingestTests},
		{"Claim", claimTests},
		{"Complete", completeTests},
		{"Log", logTests},
		{"Concurrency", concurrencyTests},
		{"Accounts", accountTests},
		{"Ordered", orderedTests},
		{"Nodes", nodeTests},
		{"Stats", statsTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			names := make([]string, 0, len(g.tests))
			for name := range g.tests {
				names = append(names, name)
			}
			slices.Sort(names)
			for _, name := range names {
				test := g.tests[name]
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					test(t, setup(t, newStore))
				})
			}
		})
	}
}

// t0 is the suite's "now"; tests move time by adding to it.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// bundle is what every test gets: a fresh store and a context.
type bundle struct {
	t   *testing.T
	s   store.Store
	ctx context.Context
	seq atomic.Int64 // for unique names
}

func setup(t *testing.T, newStore func(t *testing.T) store.Store) *bundle {
	t.Helper()
	return &bundle{t: t, s: newStore(t), ctx: t.Context()}
}

func (b *bundle) uniq(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, b.seq.Add(1))
}

// webhook stores a minimal enabled webhook in project, changed by mods.
func (b *bundle) webhook(project string, mods ...func(*herald.Webhook)) *herald.Webhook {
	b.t.Helper()
	w := &herald.Webhook{
		ID: herald.NewID("wh"), Name: b.uniq("hook"), Project: project, URL: "https://example.com/hook",
		Enabled: true, Category: herald.CategoryEvents, EventTypes: []string{"*"},
		Severity: herald.SeverityPresetAll, Language: "en", Format: herald.FormatStandard,
		Auth: herald.Auth{Type: herald.AuthNone}, SigningSecret: herald.Secret("whsec_" + b.uniq("secret")),
		CreatedAt: t0, UpdatedAt: t0,
	}
	for _, m := range mods {
		m(w)
	}
	must.NoError(b.t, b.s.CreateWebhook(b.ctx, w))
	return w
}

// fullWebhook sets every field, secrets included.
func fullWebhook(project, name string) *herald.Webhook {
	failing := at(-time.Hour)
	return &herald.Webhook{
		ID: herald.NewID("wh"), Name: name, Project: project, URL: "https://example.com/full", Enabled: true,
		Category: herald.CategoryAlarms, EventTypes: []string{"image.*", "chart.push"},
		Conditions: []herald.Condition{
			{Label: "env", Operator: herald.OpIn, Values: []string{"prod", "stage"}},
			{Label: "team", Operator: herald.OpExists},
		},
		Severity: herald.SeverityPresetAlerts, Language: "zh-CN", Format: herald.FormatTemplate,
		Template: `{"t":"{{.Type}}"}`, ContentType: "application/json",
		Headers: map[string]string{"X-Env": "prod", "X-Team": "infra"},
		Auth: herald.Auth{
			Type: herald.AuthMTLS, Username: "bob", Password: "pw-secret", Token: "token-secret",
			HeaderName: "Authorization", HeaderValue: "Basic header-secret",
			CertPEM: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
			KeyPEM:  "-----BEGIN PRIVATE KEY-----\nkey-secret\n-----END PRIVATE KEY-----\n",
		},
		TLS:             herald.TLS{SkipVerify: true, CAPEM: "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"},
		ChallengeSecret: "challenge-secret", MaxAttempts: 5, Timeout: herald.Duration(7 * time.Second),
		RateLimit: 20, Ordered: true, RetryClientErrors: false, StandardHeaders: false,
		SigningSecret: "whsec_current", PreviousSecret: "whsec_previous", PreviousSecretUntil: at(time.Hour),
		DisabledReason: "", FailingSince: &failing,
		CreatedAt: at(-2 * time.Hour), UpdatedAt: at(-time.Minute),
	}
}

// event returns a new event of type typ in project, with labels and data.
func (b *bundle) event(typ, project string) *herald.Event {
	return &herald.Event{
		ID: herald.NewID("evt"), Type: typ, Project: project, Source: "registry", Subject: b.uniq("subject"),
		Severity: herald.SeverityWarning, Labels: map[string]string{"env": "prod"},
		Data: json.RawMessage(`{"repo":"library/nginx","tag":"1.27"}`), Message: "image pushed",
		OccurredAt: at(-time.Second), ReceivedAt: t0,
	}
}

// ingest stores one event per item at now, each to hooks.
func (b *bundle) ingest(now time.Time, hooks []string, evs ...*herald.Event) *store.IngestResult {
	b.t.Helper()
	items := make([]store.IngestItem, len(evs))
	for i, ev := range evs {
		items[i] = store.IngestItem{Event: ev, WebhookIDs: hooks}
	}
	res, err := b.s.Ingest(b.ctx, store.IngestParams{Items: items, Now: now})
	must.NoError(b.t, err)
	must.Len(b.t, res.Items, len(evs))
	return res
}

// deliveryIDs returns the ids of every delivery of webhook, newest first.
func (b *bundle) deliveryIDs(f store.DeliveryFilter) []string {
	b.t.Helper()
	var ids []string
	f.Limit = 500
	for {
		ds, next, err := b.s.ListDeliveries(b.ctx, f)
		must.NoError(b.t, err)
		for _, d := range ds {
			ids = append(ids, d.ID)
		}
		if next == "" {
			return ids
		}
		f.Cursor = next
	}
}

func (b *bundle) claim(now time.Time, limit int, token string, lease time.Duration, exclude ...string) []*store.Claimed {
	b.t.Helper()
	cs, err := b.s.ClaimDeliveries(b.ctx, store.ClaimParams{
		Now: now, Limit: limit, LeaseToken: token, LeaseFor: lease, ExcludeWebhooks: exclude,
	})
	must.NoError(b.t, err)
	for _, c := range cs {
		must.Equal(b.t, token, c.LeaseToken)
		must.NotNil(b.t, c.Event)
		must.Equal(b.t, c.Event.ID, c.Delivery.EventID)
	}
	return cs
}

// claimOne claims the only due delivery.
func (b *bundle) claimOne(now time.Time, token string, lease time.Duration) *store.Claimed {
	b.t.Helper()
	cs := b.claim(now, 10, token, lease)
	must.Len(b.t, cs, 1)
	return cs[0]
}

func (b *bundle) complete(cs ...store.Completion) []bool {
	b.t.Helper()
	applied, err := b.s.CompleteDeliveries(b.ctx, cs)
	must.NoError(b.t, err)
	must.Len(b.t, applied, len(cs))
	return applied
}

func (b *bundle) delivery(id string) *herald.Delivery {
	b.t.Helper()
	d, err := b.s.GetDelivery(b.ctx, id)
	must.NoError(b.t, err)
	return d
}

func (b *bundle) getWebhook(id string) *herald.Webhook {
	b.t.Helper()
	w, err := b.s.GetWebhook(b.ctx, id)
	must.NoError(b.t, err)
	return w
}

func (b *bundle) count(state herald.State) int {
	b.t.Helper()
	n, err := b.s.CountDeliveries(b.ctx, state)
	must.NoError(b.t, err)
	return n
}

func (b *bundle) settings(on bool, now time.Time) {
	b.t.Helper()
	must.NoError(b.t, b.s.UpdateSettings(b.ctx, herald.Settings{WebhooksEnabled: on}, now))
}

// attempt is an HTTP attempt made at started with status code status.
func attempt(started time.Time, status int, errText string) *herald.Attempt {
	return &herald.Attempt{
		StartedAt: started, Latency: herald.Duration(150 * time.Millisecond),
		RequestHeaders: map[string][]string{"Content-Type": {"application/json"}, "Webhook-Id": {"msg"}},
		// The request as sent round-trips, truncation flag and non-ASCII
		// text included.
		RequestMethod: "POST", RequestURL: "https://example.com/hook?sign=%5Bredacted%5D&x=1",
		RequestBody: `{"text":"告警 ✓"}`, RequestBodyTruncated: status >= 500,
		StatusCode:      status,
		ResponseHeaders: map[string][]string{"Server": {"test"}},
		ResponseBody:    fmt.Sprintf("status %d", status), Error: errText,
	}
}

// done is the completion of c with state, an attempt of status (none when
// status < 0) and, for pending/retrying, next.
func done(c *store.Claimed, state herald.State, status int, started, next time.Time) store.Completion {
	comp := store.Completion{
		DeliveryID: c.Delivery.ID, WebhookID: c.Delivery.WebhookID, LeaseToken: c.LeaseToken,
		State: state, NextAttemptAt: next, Now: started.Add(time.Second),
	}
	if status >= 0 {
		errText := ""
		if status == 0 || status >= 300 {
			errText = fmt.Sprintf("failed with %d", status)
		}
		comp.Attempt = attempt(started, status, errText)
		comp.Attempt.DeliveryID = c.Delivery.ID
		comp.Attempt.Number = c.Delivery.Attempts + 1
	}
	return comp
}

func requireCode(t *testing.T, err error, code string) {
	t.Helper()
	must.Error(t, err)
	must.Equal(t, code, herald.ErrorCode(err), "error: %v", err)
}

func requireTime(t *testing.T, want, got time.Time, msgAndArgs ...any) {
	t.Helper()
	must.Equal(t, time.UTC, got.Location(), "times come back in UTC")
	must.True(t, want.Equal(got), "want %s, got %s %v", want, got, fmt.Sprint(msgAndArgs...))
}

func ids(cs []*store.Claimed) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Delivery.ID
	}
	return out
}
