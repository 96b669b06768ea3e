package storetest

import (
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

var webhookTests = map[string]func(t *testing.T, b *bundle){
	// Deleting a webhook cancels its open deliveries, whatever their state
	// (pending, retrying, leased or not), and nothing else: its finished
	// ones and other webhooks' stay as they are.
	"DeleteCancelsOpenOnly": func(t *testing.T, b *bundle) {
		w, other := b.webhook("p"), b.webhook("p")
		var evs []*herald.Event
		for range 5 {
			evs = append(evs, b.event("x", "p"))
		}
		b.ingest(t0, []string{w.ID, other.ID}, evs...)
		var mine []*store.Claimed
		for _, c := range b.claim(t0, 100, "A", time.Hour) {
			if c.Delivery.WebhookID == w.ID {
				mine = append(mine, c)
			}
		}
		must.Len(t, mine, 5)
		b.complete(
			done(mine[0], herald.StateSucceeded, 200, at(time.Second), time.Time{}),
			done(mine[1], herald.StateFailed, 500, at(time.Second), time.Time{}),
			done(mine[2], herald.StateRetrying, 500, at(time.Second), at(time.Hour)),
			done(mine[3], herald.StatePending, -1, at(time.Second), t0),
		) // mine[4] stays leased
		must.NoError(t, b.s.DeleteWebhook(b.ctx, w.ID, at(time.Minute)))
		want := []herald.State{herald.StateSucceeded, herald.StateFailed, herald.StateCancelled,
			herald.StateCancelled, herald.StateCancelled}
		for k, c := range mine {
			must.Equal(t, want[k], b.delivery(c.Delivery.ID).State, k)
		}
		for _, id := range b.deliveryIDs(store.DeliveryFilter{WebhookID: other.ID}) {
			must.Equal(t, herald.StatePending, b.delivery(id).State, "another webhook's delivery")
		}
	},
	// Every field survives the round trip, the secrets (sealed at rest) too.
	"CreateGet": func(t *testing.T, b *bundle) {
		want := fullWebhook("p", "full")
		must.NoError(t, b.s.CreateWebhook(b.ctx, want))
		got := b.getWebhook(want.ID)
		must.Equal(t, want, got)
		must.Equal(t, "pw-secret", got.Auth.Password.Reveal())
		must.Contains(t, got.Auth.KeyPEM.Reveal(), "key-secret")
		must.Equal(t, "whsec_current", got.SigningSecret.Reveal())
		must.Equal(t, []string{"whsec_current", "whsec_previous"}, got.Secrets(t0))
		requireTime(t, want.CreatedAt, got.CreatedAt)
		requireTime(t, *want.FailingSince, *got.FailingSince)

		_, err := b.s.GetWebhook(b.ctx, "wh_missing")
		requireCode(t, err, herald.ENotFound)
	},

	// A minimal webhook comes back with its empty lists and maps as they were.
	"CreateGetMinimal": func(t *testing.T, b *bundle) {
		want := &herald.Webhook{ID: herald.NewID("wh"), Name: "min", URL: "http://h", CreatedAt: t0, UpdatedAt: t0}
		must.NoError(t, b.s.CreateWebhook(b.ctx, want))
		must.Equal(t, want, b.getWebhook(want.ID))
	},

	"NameConflict": func(t *testing.T, b *bundle) {
		b.webhook("p1", func(w *herald.Webhook) { w.Name = "ops" })
		err := b.s.CreateWebhook(b.ctx, fullWebhook("p1", "ops"))
		requireCode(t, err, herald.EConflict)
		// Same name elsewhere is fine, the platform included.
		b.webhook("p2", func(w *herald.Webhook) { w.Name = "ops" })
		b.webhook("", func(w *herald.Webhook) { w.Name = "ops" })

		other := b.webhook("p1", func(w *herald.Webhook) { w.Name = "dev" })
		other.Name = "ops"
		requireCode(t, b.s.UpdateWebhook(b.ctx, other), herald.EConflict)
		must.Equal(t, "dev", b.getWebhook(other.ID).Name, "a refused update changes nothing")
	},

	"List": func(t *testing.T, b *bundle) {
		a := b.webhook("p1", func(w *herald.Webhook) { w.CreatedAt = at(1 * time.Second) })
		p := b.webhook("", func(w *herald.Webhook) { w.CreatedAt = at(2 * time.Second) })
		off := b.webhook("p2", func(w *herald.Webhook) { w.CreatedAt = at(3 * time.Second); w.Enabled = false })
		c := b.webhook("p2", func(w *herald.Webhook) { w.CreatedAt = at(4 * time.Second) })

		for _, tc := range []struct {
			name string
			f    store.WebhookFilter
			want []*herald.Webhook
		}{
			{"all", store.WebhookFilter{}, []*herald.Webhook{a, p, off, c}},
			{"enabled", store.WebhookFilter{EnabledOnly: true}, []*herald.Webhook{a, p, c}},
			{"project", store.WebhookFilter{Projects: []string{"p2"}}, []*herald.Webhook{off, c}},
			{"platform", store.WebhookFilter{Projects: []string{""}}, []*herald.Webhook{p}},
			{"projects enabled", store.WebhookFilter{Projects: []string{"p1", "p2"}, EnabledOnly: true}, []*herald.Webhook{a, c}},
			{"no projects", store.WebhookFilter{Projects: []string{}}, nil},
			{"unknown project", store.WebhookFilter{Projects: []string{"nope"}}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := b.s.ListWebhooks(b.ctx, tc.f)
				must.NoError(t, err)
				must.Len(t, got, len(tc.want))
				for i := range tc.want {
					must.Equal(t, tc.want[i], got[i])
				}
			})
		}
	},

	// Update replaces every field, secrets and store-kept fields included.
	"Update": func(t *testing.T, b *bundle) {
		orig := fullWebhook("p", "before")
		must.NoError(t, b.s.CreateWebhook(b.ctx, orig))
		upd := &herald.Webhook{
			ID: orig.ID, Name: "after", Project: "p", URL: "https://example.com/new", Enabled: false,
			Category: herald.CategoryEvents, EventTypes: []string{"*"}, Severity: herald.SeverityPresetCritical,
			Language: "en", Format: herald.FormatCloudEvents, Headers: map[string]string{},
			Auth:            herald.Auth{Type: herald.AuthBearer, Token: "new-token"},
			ChallengeSecret: "", MaxAttempts: 3, Timeout: herald.Duration(time.Second), RetryClientErrors: true,
			StandardHeaders: true,
			SigningSecret:   "whsec_rotated", PreviousSecret: "whsec_current", PreviousSecretUntil: at(24 * time.Hour),
			DisabledReason: "admin", FailingSince: nil,
			CreatedAt: orig.CreatedAt, UpdatedAt: at(time.Minute),
		}
		must.NoError(t, b.s.UpdateWebhook(b.ctx, upd))
		got := b.getWebhook(orig.ID)
		must.Equal(t, upd, got)
		must.False(t, got.Auth.Password.IsSet(), "a secret cleared by the update stays cleared")
		must.False(t, got.ChallengeSecret.IsSet())

		missing := fullWebhook("p", "ghost")
		requireCode(t, b.s.UpdateWebhook(b.ctx, missing), herald.ENotFound)
	},

	"Disable": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		must.NoError(t, b.s.DisableWebhook(b.ctx, w.ID, "endpoint answered 410 Gone", at(time.Hour)))
		got := b.getWebhook(w.ID)
		must.False(t, got.Enabled)
		must.Equal(t, "endpoint answered 410 Gone", got.DisabledReason)
		requireTime(t, at(time.Hour), got.UpdatedAt)
		got.Enabled, got.DisabledReason, got.UpdatedAt = true, "", w.UpdatedAt
		must.Equal(t, w, got, "nothing else changes")

		list, err := b.s.ListWebhooks(b.ctx, store.WebhookFilter{EnabledOnly: true})
		must.NoError(t, err)
		must.Empty(t, list)
		requireCode(t, b.s.DisableWebhook(b.ctx, "wh_missing", "x", t0), herald.ENotFound)
	},

	// Delete cancels what was still to be sent (held included), keeps the
	// log, and leaves finished deliveries alone.
	"DeleteCancels": func(t *testing.T, b *bundle) {
		w, other := b.webhook("p"), b.webhook("p")
		b.ingest(t0, []string{w.ID, other.ID}, b.event("a", "p"), b.event("b", "p"), b.event("c", "p"))
		cs := b.claim(t0, 10, "L", time.Minute)
		must.Len(t, cs, 6)
		var mine []*store.Claimed
		for _, c := range cs {
			if c.Delivery.WebhookID == w.ID {
				mine = append(mine, c)
			}
		}
		must.Len(t, mine, 3)
		// mine[0] succeeds, mine[1] will retry, mine[2] is released pending.
		b.complete(
			done(mine[0], herald.StateSucceeded, 200, at(time.Second), time.Time{}),
			done(mine[1], herald.StateRetrying, 500, at(time.Second), at(time.Hour)),
			done(mine[2], herald.StatePending, -1, at(time.Second), t0),
		)
		b.settings(false, at(2*time.Second))
		b.ingest(at(3*time.Second), []string{w.ID, other.ID}, b.event("d", "p"))
		must.Equal(t, 4, b.count(herald.StateHeld), "3 of mine (pending, retrying, new), 1 of other")

		must.NoError(t, b.s.DeleteWebhook(b.ctx, w.ID, at(time.Minute)))
		_, err := b.s.GetWebhook(b.ctx, w.ID)
		requireCode(t, err, herald.ENotFound)
		requireCode(t, b.s.DeleteWebhook(b.ctx, w.ID, at(time.Minute)), herald.ENotFound)

		logIDs := b.deliveryIDs(store.DeliveryFilter{WebhookID: w.ID})
		must.Len(t, logIDs, 4, "the log stays")
		for _, id := range logIDs {
			d := b.delivery(id)
			if id == mine[0].Delivery.ID {
				must.Equal(t, herald.StateSucceeded, d.State)
				continue
			}
			must.Equal(t, herald.StateCancelled, d.State, id)
			requireTime(t, at(time.Minute), d.UpdatedAt)
		}
		must.Equal(t, 1, b.count(herald.StateHeld), "the other webhook's held delivery stays")

		b.settings(true, at(2*time.Minute))
		for _, c := range b.claim(at(3*time.Hour), 10, "M", time.Minute) {
			must.Equal(t, other.ID, c.Delivery.WebhookID, "nothing of a deleted webhook is claimed")
		}
	},
}
