package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/seal"
	"github.com/herald-hq/herald/internal/store"
)

var accountTests = map[string]func(t *testing.T, b *bundle){
	"Users": func(t *testing.T, b *bundle) {
		u := &herald.User{ID: herald.NewID("usr"), Username: "alice", PasswordHash: "$hash$", Role: herald.RoleProjectAdmin,
			Projects: []string{"p1", "p2"}, CreatedAt: t0}
		must.NoError(t, b.s.CreateUser(b.ctx, u))
		got, err := b.s.UserByName(b.ctx, "alice")
		must.NoError(t, err)
		must.Equal(t, u, got)
		dup := *u
		dup.ID = herald.NewID("usr")
		must.Equal(t, herald.EConflict, herald.ErrorCode(b.s.CreateUser(b.ctx, &dup)), "username taken")
		must.NoError(t, b.s.CreateUser(b.ctx, &herald.User{ID: herald.NewID("usr"), Username: "bob", PasswordHash: "h",
			Role: herald.RoleViewer, Projects: []string{}, CreatedAt: t0}))
		all, err := b.s.ListUsers(b.ctx)
		must.NoError(t, err)
		must.Len(t, all, 2)
		must.Equal(t, "alice", all[0].Username)

		se := &herald.Session{ID: herald.NewID("ses"), Hash: "h1", Subject: "user:" + u.ID, Name: "alice",
			Role: u.Role, Projects: u.Projects, CSRF: "csrf", CreatedAt: t0, ExpiresAt: at(time.Hour)}
		must.NoError(t, b.s.CreateSession(b.ctx, se))
		must.NoError(t, b.s.DeleteUser(b.ctx, u.ID))
		_, err = b.s.SessionByHash(b.ctx, "h1", t0)
		must.Equal(t, herald.ENotFound, herald.ErrorCode(err), "a deleted user's sessions end")
		_, err = b.s.UserByName(b.ctx, "alice")
		must.Equal(t, herald.ENotFound, herald.ErrorCode(err))
		must.Equal(t, herald.ENotFound, herald.ErrorCode(b.s.DeleteUser(b.ctx, u.ID)))
	},

	"Sessions": func(t *testing.T, b *bundle) {
		se := &herald.Session{ID: herald.NewID("ses"), Hash: "h1", Subject: "token:tok_1", Name: "ci",
			Role: herald.RoleViewer, Projects: []string{"p"}, CSRF: "csrf-1", CreatedAt: t0, ExpiresAt: at(time.Hour)}
		must.NoError(t, b.s.CreateSession(b.ctx, se))
		got, err := b.s.SessionByHash(b.ctx, "h1", at(time.Minute))
		must.NoError(t, err)
		must.Equal(t, se, got)
		_, err = b.s.SessionByHash(b.ctx, "h1", at(time.Hour))
		must.Equal(t, herald.ENotFound, herald.ErrorCode(err), "expired")
		_, err = b.s.SessionByHash(b.ctx, "other", t0)
		must.Equal(t, herald.ENotFound, herald.ErrorCode(err))
		must.NoError(t, b.s.DeleteSession(b.ctx, se.ID))
		_, err = b.s.SessionByHash(b.ctx, "h1", t0)
		must.Equal(t, herald.ENotFound, herald.ErrorCode(err), "logged out")
		must.NoError(t, b.s.DeleteSession(b.ctx, se.ID), "deleting twice is fine")
	},

	"Audit": func(t *testing.T, b *bundle) {
		var want []string
		for i := range 5 {
			proj := "p1"
			if i%2 == 1 {
				proj = "p2"
			}
			e := &herald.AuditEntry{At: at(time.Duration(i) * time.Second), Actor: "token:tok_1 (admin)",
				Action: "webhook.update", Object: "wh_1", Project: proj, Details: `{"name":"x"}`}
			must.NoError(t, b.s.AppendAudit(b.ctx, e))
			must.NotEmpty(t, e.ID)
			want = append([]string{e.ID}, want...)
		}
		page, next, err := b.s.ListAudit(b.ctx, store.AuditFilter{Limit: 3})
		must.NoError(t, err)
		must.Len(t, page, 3)
		must.Equal(t, want[0], page[0].ID, "newest first")
		must.Equal(t, at(4*time.Second), page[0].At)
		rest, next2, err := b.s.ListAudit(b.ctx, store.AuditFilter{Limit: 3, Cursor: next})
		must.NoError(t, err)
		must.Len(t, rest, 2)
		must.Equal(t, "", next2)
		p2, _, err := b.s.ListAudit(b.ctx, store.AuditFilter{Project: "p2"})
		must.NoError(t, err)
		must.Len(t, p2, 2)
	},

	"Reseal": func(t *testing.T, b *bundle) {
		w := b.webhook("p", func(w *herald.Webhook) {
			w.Auth = herald.Auth{Type: herald.AuthBasic, Username: "u", Password: "pw-before-rotation"}
		})
		key := bytes.Repeat([]byte{42}, 32)
		box, err := seal.New(key)
		must.NoError(t, err)
		n, err := b.s.Reseal(b.ctx, box)
		must.NoError(t, err)
		must.Equal(t, 1, n)
		got := b.getWebhook(w.ID)
		must.Equal(t, herald.Secret("pw-before-rotation"), got.Auth.Password, "secrets readable with the new key")
		must.Equal(t, w.SigningSecret, got.SigningSecret)
		w2 := b.webhook("p")
		must.Equal(t, w2.SigningSecret, b.getWebhook(w2.ID).SigningSecret, "new webhooks use the new key")
	},

	"Prune": func(t *testing.T, b *bundle) {
		w := b.webhook("p")
		b.ingest(t0, []string{w.ID}, b.event("x", "p"), b.event("x", "p"), b.event("x", "p"))
		cs := b.claim(t0, 10, "A", time.Minute)
		must.Len(t, cs, 3)
		b.complete(
			done(cs[0], herald.StateSucceeded, 200, at(time.Second), time.Time{}),
			done(cs[1], herald.StateFailed, 500, at(time.Second), time.Time{}),
		)
		// cs[2] stays leased (in flight): never pruned.
		n, err := b.s.Prune(b.ctx, at(time.Millisecond), 10)
		must.NoError(t, err)
		must.Zero(t, n, "nothing finished before the cut-off")
		n, err = b.s.Prune(b.ctx, at(time.Hour), 1)
		must.NoError(t, err)
		must.True(t, n >= 1 && n <= 2, "bounded by limit: one delivery (and at most one event)")
		for range 10 {
			if n, err = b.s.Prune(b.ctx, at(time.Hour), 1); err != nil || n == 0 {
				break
			}
		}
		must.NoError(t, err)
		must.Zero(t, n, "pruning converges")
		_, err = b.s.GetDelivery(b.ctx, cs[0].Delivery.ID)
		must.Equal(t, herald.ENotFound, herald.ErrorCode(err))
		as, err := b.s.ListAttempts(b.ctx, cs[1].Delivery.ID)
		must.NoError(t, err)
		must.Empty(t, as, "attempts go with their delivery")
		must.Equal(t, herald.StatePending, b.delivery(cs[2].Delivery.ID).State)
		evs, err := b.s.FindEvents(b.ctx, cs[0].Event.ID)
		must.NoError(t, err)
		must.Empty(t, evs, "an event no delivery needs is pruned")
		evs, err = b.s.FindEvents(b.ctx, cs[2].Event.ID)
		must.NoError(t, err)
		must.Len(t, evs, 1, "an event still needed stays")
	},
}
