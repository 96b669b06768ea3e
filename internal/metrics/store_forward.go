package metrics

// Code below forwards every store.Store method and counts its internal
// errors; it was generated from store.go's interface (one method each,
// op = the method name in snake case). Methods added to store.Store later
// pass through the embedded Store uncounted until added here.

import (
	"context"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/seal"
	"github.com/herald-hq/herald/internal/store"
)

func (x *instrumented) GetSettings(ctx context.Context) (herald.Settings, error) {
	r0, err := x.Store.GetSettings(ctx)
	x.m.storeError("get_settings", err)
	return r0, err
}

func (x *instrumented) UpdateSettings(ctx context.Context, s herald.Settings, now time.Time) error {
	err := x.Store.UpdateSettings(ctx, s, now)
	x.m.storeError("update_settings", err)
	return err
}

func (x *instrumented) CountDeliveries(ctx context.Context, state herald.State) (int, error) {
	r0, err := x.Store.CountDeliveries(ctx, state)
	x.m.storeError("count_deliveries", err)
	return r0, err
}

func (x *instrumented) CreateToken(ctx context.Context, t *herald.Token) error {
	err := x.Store.CreateToken(ctx, t)
	x.m.storeError("create_token", err)
	return err
}

func (x *instrumented) TokenByHash(ctx context.Context, hash string) (*herald.Token, error) {
	r0, err := x.Store.TokenByHash(ctx, hash)
	x.m.storeError("token_by_hash", err)
	return r0, err
}

func (x *instrumented) ListTokens(ctx context.Context) ([]*herald.Token, error) {
	r0, err := x.Store.ListTokens(ctx)
	x.m.storeError("list_tokens", err)
	return r0, err
}

func (x *instrumented) DeleteToken(ctx context.Context, id string) error {
	err := x.Store.DeleteToken(ctx, id)
	x.m.storeError("delete_token", err)
	return err
}

func (x *instrumented) CreateWebhook(ctx context.Context, w *herald.Webhook) error {
	err := x.Store.CreateWebhook(ctx, w)
	x.m.storeError("create_webhook", err)
	return err
}

func (x *instrumented) GetWebhook(ctx context.Context, id string) (*herald.Webhook, error) {
	r0, err := x.Store.GetWebhook(ctx, id)
	x.m.storeError("get_webhook", err)
	return r0, err
}

func (x *instrumented) ListWebhooks(ctx context.Context, f store.WebhookFilter) ([]*herald.Webhook, error) {
	r0, err := x.Store.ListWebhooks(ctx, f)
	x.m.storeError("list_webhooks", err)
	return r0, err
}

func (x *instrumented) UpdateWebhook(ctx context.Context, w *herald.Webhook) error {
	err := x.Store.UpdateWebhook(ctx, w)
	x.m.storeError("update_webhook", err)
	return err
}

func (x *instrumented) DeleteWebhook(ctx context.Context, id string, now time.Time) error {
	err := x.Store.DeleteWebhook(ctx, id, now)
	x.m.storeError("delete_webhook", err)
	return err
}

func (x *instrumented) Ingest(ctx context.Context, p store.IngestParams) (*store.IngestResult, error) {
	r0, err := x.Store.Ingest(ctx, p)
	x.m.storeError("ingest", err)
	return r0, err
}

func (x *instrumented) FindEvents(ctx context.Context, id string) ([]*herald.Event, error) {
	r0, err := x.Store.FindEvents(ctx, id)
	x.m.storeError("find_events", err)
	return r0, err
}

func (x *instrumented) ClaimDeliveries(ctx context.Context, p store.ClaimParams) ([]*store.Claimed, error) {
	r0, err := x.Store.ClaimDeliveries(ctx, p)
	x.m.storeError("claim_deliveries", err)
	return r0, err
}

func (x *instrumented) CompleteDeliveries(ctx context.Context, cs []store.Completion) ([]bool, error) {
	r0, err := x.Store.CompleteDeliveries(ctx, cs)
	x.m.storeError("complete_deliveries", err)
	return r0, err
}

func (x *instrumented) ExtendLeases(ctx context.Context, token string, ids []string, until time.Time) error {
	err := x.Store.ExtendLeases(ctx, token, ids, until)
	x.m.storeError("extend_leases", err)
	return err
}

func (x *instrumented) NextDue(ctx context.Context) (time.Time, bool, error) {
	r0, r1, err := x.Store.NextDue(ctx)
	x.m.storeError("next_due", err)
	return r0, r1, err
}

func (x *instrumented) ListDeliveries(ctx context.Context, f store.DeliveryFilter) ([]*herald.Delivery, string, error) {
	r0, r1, err := x.Store.ListDeliveries(ctx, f)
	x.m.storeError("list_deliveries", err)
	return r0, r1, err
}

func (x *instrumented) CountMatchingDeliveries(ctx context.Context, f store.DeliveryFilter, max int) (int, bool, error) {
	r0, r1, err := x.Store.CountMatchingDeliveries(ctx, f, max)
	x.m.storeError("count_matching_deliveries", err)
	return r0, r1, err
}

func (x *instrumented) GetDelivery(ctx context.Context, id string) (*herald.Delivery, error) {
	r0, err := x.Store.GetDelivery(ctx, id)
	x.m.storeError("get_delivery", err)
	return r0, err
}

func (x *instrumented) ListAttempts(ctx context.Context, deliveryID string) ([]*herald.Attempt, error) {
	r0, err := x.Store.ListAttempts(ctx, deliveryID)
	x.m.storeError("list_attempts", err)
	return r0, err
}

func (x *instrumented) RetryDelivery(ctx context.Context, id string, now time.Time) (*herald.Delivery, error) {
	r0, err := x.Store.RetryDelivery(ctx, id, now)
	x.m.storeError("retry_delivery", err)
	return r0, err
}

func (x *instrumented) RecoverFailed(ctx context.Context, webhookID string, since, now time.Time) (int, error) {
	r0, err := x.Store.RecoverFailed(ctx, webhookID, since, now)
	x.m.storeError("recover_failed", err)
	return r0, err
}

func (x *instrumented) RecordTest(ctx context.Context, ev *herald.Event, d *herald.Delivery, a *herald.Attempt) error {
	err := x.Store.RecordTest(ctx, ev, d, a)
	x.m.storeError("record_test", err)
	return err
}

func (x *instrumented) CreateUser(ctx context.Context, u *herald.User) error {
	err := x.Store.CreateUser(ctx, u)
	x.m.storeError("create_user", err)
	return err
}

func (x *instrumented) UserByName(ctx context.Context, username string) (*herald.User, error) {
	r0, err := x.Store.UserByName(ctx, username)
	x.m.storeError("user_by_name", err)
	return r0, err
}

func (x *instrumented) ListUsers(ctx context.Context) ([]*herald.User, error) {
	r0, err := x.Store.ListUsers(ctx)
	x.m.storeError("list_users", err)
	return r0, err
}

func (x *instrumented) DeleteUser(ctx context.Context, id string) error {
	err := x.Store.DeleteUser(ctx, id)
	x.m.storeError("delete_user", err)
	return err
}

func (x *instrumented) CreateSession(ctx context.Context, s *herald.Session) error {
	err := x.Store.CreateSession(ctx, s)
	x.m.storeError("create_session", err)
	return err
}

func (x *instrumented) SessionByHash(ctx context.Context, hash string, now time.Time) (*herald.Session, error) {
	r0, err := x.Store.SessionByHash(ctx, hash, now)
	x.m.storeError("session_by_hash", err)
	return r0, err
}

func (x *instrumented) DeleteSession(ctx context.Context, id string) error {
	err := x.Store.DeleteSession(ctx, id)
	x.m.storeError("delete_session", err)
	return err
}

func (x *instrumented) AppendAudit(ctx context.Context, e *herald.AuditEntry) error {
	err := x.Store.AppendAudit(ctx, e)
	x.m.storeError("append_audit", err)
	return err
}

func (x *instrumented) ListAudit(ctx context.Context, f store.AuditFilter) ([]*herald.AuditEntry, string, error) {
	r0, r1, err := x.Store.ListAudit(ctx, f)
	x.m.storeError("list_audit", err)
	return r0, r1, err
}

func (x *instrumented) Reseal(ctx context.Context, to *seal.Box) (int, error) {
	r0, err := x.Store.Reseal(ctx, to)
	x.m.storeError("reseal", err)
	return r0, err
}

func (x *instrumented) Prune(ctx context.Context, before time.Time, limit int) (int, error) {
	r0, err := x.Store.Prune(ctx, before, limit)
	x.m.storeError("prune", err)
	return r0, err
}

func (x *instrumented) WebhookStatus(ctx context.Context, webhookID string) ([]herald.EventTypeStatus, error) {
	r0, err := x.Store.WebhookStatus(ctx, webhookID)
	x.m.storeError("webhook_status", err)
	return r0, err
}

func (x *instrumented) Heartbeat(ctx context.Context, node, instance string, now time.Time) (prev string, err error) {
	r0, err := x.Store.Heartbeat(ctx, node, instance, now)
	x.m.storeError("heartbeat", err)
	return r0, err
}

func (x *instrumented) ListNodes(ctx context.Context) ([]store.Node, error) {
	r0, err := x.Store.ListNodes(ctx)
	x.m.storeError("list_nodes", err)
	return r0, err
}
