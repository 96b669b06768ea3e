// Package store declares the storage seam every Herald backend implements in
// full (SQLite, PostgreSQL), with its parameter structs. Only internal/app and
// tests import the concrete stores; everything else talks to Store.
//
// Deliveries are an outbox: rows carry state, attempts, next_attempt_at and a
// lease (token + expiry). A dispatcher claims due rows with a lease; a result
// is written only "if still leased by me" (fencing by lease token), so a node
// that lost its lease cannot overwrite a newer result, and a node that dies
// mid-request loses nothing: its leases expire and the rows are claimed again.
package store

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/seal"
)

// Store is the storage seam. Every method is safe for concurrent use. Errors
// that concern the caller are *herald.Error (ENotFound, EConflict, ...);
// anything else is an internal error.
type Store interface {
	// Close releases the database. It does not wait for callers.
	Close() error

	// GetSettings returns the global settings (defaults: webhooks enabled,
	// https_only off, before anything was saved).
	GetSettings(ctx context.Context) (herald.Settings, error)
	// UpdateSettings saves s. Turning WebhooksEnabled off moves every pending or
	// retrying delivery that is not leased to held; turning it on moves held
	// deliveries back to pending (no attempt yet) or retrying, due at once.
	UpdateSettings(ctx context.Context, s herald.Settings, now time.Time) error
	// CountDeliveries counts deliveries by state (for the console and metrics).
	CountDeliveries(ctx context.Context, state herald.State) (int, error)

	CreateToken(ctx context.Context, t *herald.Token) error
	// TokenByHash returns the token whose hash is hash, ENotFound otherwise.
	TokenByHash(ctx context.Context, hash string) (*herald.Token, error)
	ListTokens(ctx context.Context) ([]*herald.Token, error)
	// DeleteToken removes a token, ENotFound when absent.
	DeleteToken(ctx context.Context, id string) error

	// CreateWebhook stores w (ID, timestamps and SigningSecret already set by the
	// caller). EConflict when the name is taken in w.Project.
	CreateWebhook(ctx context.Context, w *herald.Webhook) error
	GetWebhook(ctx context.Context, id string) (*herald.Webhook, error)
	ListWebhooks(ctx context.Context, f WebhookFilter) ([]*herald.Webhook, error)
	// UpdateWebhook replaces every field of the stored webhook with w's (secrets
	// included). EConflict on a name clash, ENotFound when absent.
	UpdateWebhook(ctx context.Context, w *herald.Webhook) error
	// DeleteWebhook removes the webhook and cancels its pending, retrying and
	// held deliveries (their records stay in the delivery log).
	DeleteWebhook(ctx context.Context, id string, now time.Time) error
	// DisableWebhook switches the webhook off with a reason ("410 Gone", ...).
	DisableWebhook(ctx context.Context, id, reason string, now time.Time) error

	// Ingest stores events and their deliveries in one transaction: either all
	// of it is durable when Ingest returns nil, or nothing is. See IngestParams.
	// Webhooks that are gone or disabled when the transaction runs get no
	// delivery (the caller matched against a cached list). A delivery's
	// Project is its webhook's project ("" for a platform webhook).
	Ingest(ctx context.Context, p IngestParams) (*IngestResult, error)
	// FindEvents returns every stored event with this id (one per project at most).
	FindEvents(ctx context.Context, id string) ([]*herald.Event, error)

	// ClaimDeliveries leases up to p.Limit due deliveries: state pending or
	// retrying, next_attempt_at <= p.Now, lease absent or expired, the global
	// switch on, webhook not in p.ExcludeWebhooks; oldest due first, and in
	// creation order among rows due at the same time (ordered webhooks rely
	// on it), in that order in the result. Each claimed row gets
	// lease_token = p.LeaseToken, lease_until = p.Now+p.LeaseFor. Claimed
	// rows of one event may share one *herald.Event: treat it as read-only.
	ClaimDeliveries(ctx context.Context, p ClaimParams) ([]*Claimed, error)
	// CompleteDeliveries records results in one transaction. Each completion
	// applies only if the row is still leased with its LeaseToken; it then
	// inserts its Attempt (if any), sets state/next_attempt_at/last_* and
	// clears the lease. A pending or retrying result while the global switch is
	// off becomes held. It also keeps each webhook's FailingSince: cleared on a
	// success, set (if unset) on a failed attempt. Returns, per completion,
	// whether it applied.
	CompleteDeliveries(ctx context.Context, cs []Completion) ([]bool, error)
	// ExtendLeases pushes lease_until to until for rows still leased with token.
	ExtendLeases(ctx context.Context, token string, ids []string, until time.Time) error
	// NextDue returns the earliest time a pending or retrying delivery becomes
	// claimable: its next_attempt_at, or its lease_until when a lease runs
	// past that (a live lease counts as due when it expires). false when there
	// is none, or when the global switch is off.
	NextDue(ctx context.Context) (time.Time, bool, error)

	// ListDeliveries returns one page, newest first.
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]*herald.Delivery, string, error)
	// CountMatchingDeliveries counts the deliveries f selects (its Cursor,
	// Oldest and Limit ignored), reading at most max+1 rows: n is at most
	// max, and more says there are more than max.
	CountMatchingDeliveries(ctx context.Context, f DeliveryFilter, max int) (n int, more bool, err error)
	GetDelivery(ctx context.Context, id string) (*herald.Delivery, error)
	// ListAttempts returns a delivery's attempts, oldest first.
	ListAttempts(ctx context.Context, deliveryID string) ([]*herald.Attempt, error)
	// RetryDelivery puts a delivery in any state except pending/retrying back
	// to pending (retrying if it had attempts), due at now, with a fresh retry
	// schedule (RoundStart = Attempts). A retrying delivery is retried now:
	// its next attempt becomes due at now, its schedule unchanged (EConflict
	// while an attempt is in flight: leased). EConflict when it is pending.
	// While the global switch is off it becomes held instead (and is released
	// as pending or retrying when the switch comes on).
	RetryDelivery(ctx context.Context, id string, now time.Time) (*herald.Delivery, error)
	// RecoverFailed does RetryDelivery for every failed delivery of a webhook
	// whose last attempt is at or after since (every one if since is zero);
	// test sends are not deliveries of events and are left alone.
	// Returns how many.
	RecoverFailed(ctx context.Context, webhookID string, since, now time.Time) (int, error)
	// RecordTest stores a test send: its event, a delivery (Test=true, final
	// state) and its one attempt, in one transaction.
	RecordTest(ctx context.Context, ev *herald.Event, d *herald.Delivery, a *herald.Attempt) error
	// CreateUser stores a console user. EConflict when the username is taken.
	CreateUser(ctx context.Context, u *herald.User) error
	// UserByName returns the user, ENotFound otherwise.
	UserByName(ctx context.Context, username string) (*herald.User, error)
	ListUsers(ctx context.Context) ([]*herald.User, error)
	// DeleteUser removes the user and its sessions. ENotFound when absent.
	DeleteUser(ctx context.Context, id string) error

	CreateSession(ctx context.Context, s *herald.Session) error
	// SessionByHash returns an unexpired session (at now), ENotFound otherwise.
	SessionByHash(ctx context.Context, hash string, now time.Time) (*herald.Session, error)
	// DeleteSession removes a session (logout); no error when absent.
	DeleteSession(ctx context.Context, id string) error

	// AppendAudit records a configuration change.
	AppendAudit(ctx context.Context, e *herald.AuditEntry) error
	// ListAudit returns entries newest first, one page (cursor = last ID).
	ListAudit(ctx context.Context, f AuditFilter) ([]*herald.AuditEntry, string, error)

	// Reseal re-encrypts every stored secret with to, in one transaction, and
	// makes the store use to from then on. Returns how many webhooks.
	Reseal(ctx context.Context, to *seal.Box) (int, error)

	// Prune deletes up to limit finished deliveries (succeeded, failed,
	// cancelled) last updated before before, with their attempts, and up to
	// limit events no delivery refers to any more (received before before).
	// It returns how many rows (deliveries plus events) it deleted. Bounded so
	// it never blocks delivery for long; call again while it returns at least
	// limit. Where several nodes share a database, one prunes at a time (the
	// others get 0).
	Prune(ctx context.Context, before time.Time, limit int) (int, error)

	// WebhookStatus returns, per event type, the latest attempted delivery of
	// the webhook (Harbor's per-event-type status), sorted by event type.
	WebhookStatus(ctx context.Context, webhookID string) ([]herald.EventTypeStatus, error)

	// ReleaseLeases clears the lease of every pending or retrying delivery
	// leased by node and still unexpired at now, leaving its state, attempts
	// and next_attempt_at unchanged, so that it can be claimed again at once
	// (in its due order, ahead of newer work). A node's lease tokens are
	// node + "-" + a suffix without '-' (see LeaseNode); node "" releases
	// every lease, which only a process that knows it is alone may do (the
	// SQLite data directory lock). Returns how many rows it released.
	ReleaseLeases(ctx context.Context, node string, now time.Time) (int, error)
	// Heartbeat records that node is alive at now: it creates the node's
	// liveness row (started_at = now) or moves its heartbeat_at to now, and
	// stores instance, the identity of the running process. It returns the
	// instance the row held before ("" for a new row): a value other than
	// instance after this process's first beat means a second process uses
	// the same node identity.
	Heartbeat(ctx context.Context, node, instance string, now time.Time) (prev string, err error)
	// ReleaseDeadNodes finds the nodes whose last heartbeat is before
	// deadBefore, releases their leases as ReleaseLeases does (at now) and
	// removes their liveness rows (a node that comes back creates its row
	// again with its next heartbeat). Several live nodes may call it at once:
	// each dead node is handled by one of them. Returns what it released.
	ReleaseDeadNodes(ctx context.Context, deadBefore, now time.Time) ([]ReleasedNode, error)
	// ListNodes returns the liveness rows, by id.
	ListNodes(ctx context.Context) ([]Node, error)
}

// WebhookFilter selects webhooks. Zero value: all.
type WebhookFilter struct {
	// Projects limits to these projects ("" is the platform); nil = no limit.
	Projects []string
	// EnabledOnly drops disabled webhooks.
	EnabledOnly bool
}

// IngestParams is one group commit: events, each with the webhooks it matched.
type IngestParams struct {
	Items []IngestItem
	Now   time.Time
	// Lease, when LeaseLimit > 0, claims up to LeaseLimit of the new deliveries
	// for the caller in the same transaction (lease_token = LeaseToken,
	// lease_until = Now+LeaseFor), so a local dispatcher can send them without
	// claiming them again. Held deliveries are never leased.
	LeaseToken string
	LeaseFor   time.Duration
	LeaseLimit int
}

// IngestItem is one event and the IDs of the webhooks that get it.
type IngestItem struct {
	Event      *herald.Event
	WebhookIDs []string
}

// IngestResult reports, per item in order, what was stored, and the
// deliveries leased to the caller.
type IngestResult struct {
	Items   []IngestItemResult
	Claimed []*Claimed
}

// IngestItemResult is the outcome for one event.
type IngestItemResult struct {
	// EventID is the event's id (assigned by the caller if it had none).
	EventID string
	// Duplicate is true when (project, id) was already stored: nothing new was
	// written for it.
	Duplicate bool
	// Deliveries is how many deliveries were created.
	Deliveries int
}

// ClaimParams leases due deliveries.
type ClaimParams struct {
	Now             time.Time
	Limit           int
	LeaseToken      string
	LeaseFor        time.Duration
	ExcludeWebhooks []string
}

// Claimed is a leased delivery with its event, ready to send.
type Claimed struct {
	Delivery   *herald.Delivery
	Event      *herald.Event
	LeaseToken string
	// RoundStart is Delivery.Attempts when the current retry schedule began
	// (0, or the count at the last manual retry). The attempt about to be made
	// is number Delivery.Attempts+1 overall and Delivery.Attempts-RoundStart+1
	// in its schedule.
	RoundStart int
	// LeaseExpired: the row was still leased when claimed, its lease run out
	// without a result (its holder stalled or died without a release): it is
	// sent again, counted by herald_lease_reclaims_total{reason="expired"}.
	LeaseExpired bool
}

// Completion is the result of one claimed delivery.
type Completion struct {
	DeliveryID string
	WebhookID  string
	LeaseToken string
	// Attempt is the request made, nil when none was (e.g. the webhook was
	// deleted: State cancelled).
	Attempt *herald.Attempt
	// State is the next state; NextAttemptAt matters for pending/retrying.
	State         herald.State
	NextAttemptAt time.Time
	// Error is stored as last_error when no attempt says more.
	Error string
	Now   time.Time
	// EventData is the data of the delivery's event as claimed (Claimed's
	// Event.Data), or nil: a store keeps the attempt's request body without
	// it when the body holds it verbatim (attemptpack.Packed.CutData).
	EventData json.RawMessage
}

// DeliveryFilter selects deliveries for the log. Zero value: all, 50 per page.
type DeliveryFilter struct {
	WebhookID string
	// Projects limits to these projects; nil = no limit.
	Projects []string
	State    herald.State
	// EventType is one type, or a prefix ending in "*" ("image.*"; "*" is
	// every type).
	EventType string
	EventID   string
	// ErrorContains keeps deliveries whose last error contains it (any
	// case in ASCII).
	ErrorContains string
	// SubjectContains keeps deliveries whose event's subject contains it
	// (any case in ASCII).
	SubjectContains string
	// Since/Until bound created_at (Since inclusive, Until exclusive); zero =
	// unbounded.
	Since time.Time
	Until time.Time
	// Cursor is the last ID of the previous page ("" for the first).
	Cursor string
	// Oldest lists oldest first (the cursor then moves forward in time).
	Oldest bool
	// Limit defaults to 50, at most 500.
	Limit int
}

// AuditFilter selects audit entries. Zero value: all, 50 per page.
type AuditFilter struct {
	Project string // "" = every project
	Cursor  string
	Limit   int
}

// Node is a liveness record: one Herald process sharing the database.
type Node struct {
	ID          string
	Instance    string
	StartedAt   time.Time
	HeartbeatAt time.Time
}

// ReleasedNode is a dead node whose leases ReleaseDeadNodes released.
type ReleasedNode struct {
	ID            string
	LastHeartbeat time.Time
	// Leases is how many deliveries were released.
	Leases int
}

// LeaseNode returns the node part of a lease token (everything before its
// last '-'), "" when it has none. Node identities may contain '-'; the
// suffix a node adds (a sequence number) may not.
func LeaseNode(token string) string {
	i := strings.LastIndexByte(token, '-')
	if i < 0 {
		return ""
	}
	return token[:i]
}

// PageLimit normalizes a page size: default 50, at most 500.
func PageLimit(n int) int {
	if n <= 0 {
		return 50
	}
	if n > 500 {
		return 500
	}
	return n
}

// IndexedStates is the SQL list of the states both stores index in
// deliveries_state (migration 0015): the ones few deliveries are in. Pending
// rows are counted from deliveries_due instead and succeeded ones are most of
// the log, so indexing either cost an entry (and its upkeep on every
// completion) per delivery for queries that a scan in id order answers as
// fast. A query that wants the index repeats this list beside its own state
// condition, so that the planner sees the index's predicate implied.
const IndexedStates = `('retrying', 'failed', 'cancelled', 'held')`

// StateIndexed reports whether deliveries in state s are in deliveries_state.
func StateIndexed(s herald.State) bool {
	switch s {
	case herald.StateRetrying, herald.StateFailed, herald.StateCancelled, herald.StateHeld:
		return true
	}
	return false
}
