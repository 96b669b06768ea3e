// Package app wires Herald together and runs it: store, router, ingester,
// dispatcher, sender, API and HTTP server, with an explicit lifecycle
// (New, Start, Close). `herald serve`, `herald bench` and the end-to-end tests
// all start Herald through it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/api"
	"github.com/herald-hq/herald/internal/config"
	"github.com/herald-hq/herald/internal/dispatch"
	"github.com/herald-hq/herald/internal/ingest"
	"github.com/herald-hq/herald/internal/liveness"
	"github.com/herald-hq/herald/internal/metrics"
	"github.com/herald-hq/herald/internal/retention"
	"github.com/herald-hq/herald/internal/retry"
	"github.com/herald-hq/herald/internal/seal"
	"github.com/herald-hq/herald/internal/sender"
	"github.com/herald-hq/herald/internal/service"
	"github.com/herald-hq/herald/internal/store"
	"github.com/herald-hq/herald/internal/store/postgres"
	"github.com/herald-hq/herald/internal/store/sqlite"
	"github.com/herald-hq/herald/internal/web"
)

// App is one running Herald node.
type App struct {
	cfg     config.Config
	log     *slog.Logger
	Store   store.Store
	Service *service.Service
	router  *ingest.Router
	ing     *ingest.Ingester
	disp    *dispatch.Dispatcher
	prune   *retention.Worker
	live    *liveness.Worker // nil when the node is alone (SQLite)
	send    *sender.Sender
	reg     *prometheus.Registry
	metrics *metrics.Metrics

	// node is this node's identity (config node_id), the prefix of its
	// lease tokens; alone is true when the data directory lock guarantees no
	// other process uses the database.
	node  string
	alone bool

	srv      *http.Server
	ln       net.Listener
	cancel   context.CancelFunc
	serveErr chan error
	started  bool

	// GeneratedAdminToken is set when this start created the bootstrap
	// platform-admin token because none was configured; print it once.
	GeneratedAdminToken string
	// AdminTokenSource says where the platform-admin access of this start
	// comes from, for `herald serve` to print.
	AdminTokenSource AdminTokenSource
	// RevokedBootstrapTokens is how many earlier HERALD_ADMIN_TOKEN tokens
	// this start revoked because the configured value changed.
	RevokedBootstrapTokens int
	// FirstTokenAt is when the first platform-admin token was generated, when
	// an earlier start did it (see AdminTokenExisting).
	FirstTokenAt time.Time
}

// AdminTokenSource is how a start provided platform-admin access.
type AdminTokenSource int

const (
	// AdminTokenConfigured: admin_token / HERALD_ADMIN_TOKEN.
	AdminTokenConfigured AdminTokenSource = iota + 1
	// AdminTokenGenerated: this start generated one (GeneratedAdminToken).
	AdminTokenGenerated
	// AdminTokenExisting: none configured; tokens exist from earlier starts.
	AdminTokenExisting
)

// Options adjust New for embedding (tests, bench).
type Options struct {
	Logger *slog.Logger
	// Store replaces the store the configuration selects.
	Store store.Store
	// ChallengeTimeout bounds the ownership challenge. Defaults to 5s;
	// tests shorten it.
	ChallengeTimeout time.Duration
	// LoginLimits lower the console sign-in throttle; tests use it.
	LoginLimits service.LoginLimits
}

// New opens the store and builds every part; nothing runs until Start.
func New(ctx context.Context, cfg config.Config, o Options) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	a := &App{cfg: cfg, log: log, reg: prometheus.NewRegistry()}
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	st := o.Store
	if st == nil {
		var err error
		st, err = openStore(ctx, cfg, log)
		if err != nil {
			return nil, err
		}
	}
	// Every part goes through the instrumented store: its internal errors
	// are counted by operation (herald_store_errors_total).
	a.metrics = metrics.New(a.reg)
	st = a.metrics.WrapStore(st)
	if stats, ok := st.(store.Stats); ok {
		a.metrics.RegisterBacklog(a.reg, stats, metrics.BacklogOptions{Logger: log})
	}
	a.Store = st
	a.node = cfg.Node()
	a.alone = o.Store == nil && cfg.Storage.Driver == "sqlite"
	if err := a.bootstrapConfigured(ctx); err != nil {
		st.Close()
		return nil, err
	}

	allow, _ := cfg.AllowPrefixes()
	waits, _ := cfg.RetryWaits()
	a.send = sender.New(sender.Options{AllowCIDRs: allow, UserAgent: herald.UserAgent(), ChallengeTimeout: o.ChallengeTimeout})
	a.router = ingest.NewRouter(st, 2*time.Second)
	dmetrics := dispatch.NewMetrics(a.reg)
	// Every series of a known label value exists from the first scrape, so
	// that rate() and the alerting rules see the first attempt.
	for _, r := range []string{"1xx", "2xx", "3xx", "4xx", "5xx", "error"} {
		dmetrics.Attempts.WithLabelValues(r)
	}
	for _, s := range []herald.State{herald.StatePending, herald.StateRetrying, herald.StateHeld,
		herald.StateSucceeded, herald.StateFailed, herald.StateCancelled} {
		dmetrics.Completed.WithLabelValues(string(s))
	}
	a.disp = dispatch.New(dispatch.Options{
		NodeID: a.node,
		Store:  st, Sender: a.send, Policy: retry.Policy{Schedule: retry.FromWaits(waits)},
		Logger: log, Workers: cfg.Delivery.Workers, PerWebhook: cfg.Delivery.PerWebhookConcurrency,
		Lease: cfg.LeaseDuration(), DisableAfter: cfg.DisableAfterDuration(),
		Emit: func(ctx context.Context, ev *herald.Event) error {
			_, err := a.ing.Ingest(ctx, []*herald.Event{ev})
			return err
		},
		OnWebhookChange: func(string) { a.router.Invalidate() },
		Metrics:         dmetrics,
		LeasesExpired:   func(n int) { a.metrics.LeasesReclaimed(metrics.ReclaimExpired, n) },
	})
	// herald_deliveries_in_flight reads the dispatcher once it reports it.
	if f, ok := any(a.disp).(metrics.InFlighter); ok {
		a.metrics.SetInFlight(f)
	}
	a.prune = retention.New(retention.Options{Store: st, Retention: cfg.RetentionDuration(), Logger: log})
	if !a.alone {
		a.live = liveness.New(liveness.Options{Store: st, Node: a.node, Logger: log})
	}
	a.ing = ingest.New(ingest.Options{Store: st, Router: a.router, Handoff: a.disp})

	a.Service = service.New(service.Options{
		Store: st, Ingester: a.ing, Engine: a.disp, Challenger: a.metrics.WrapChallenger(a.send), Targets: a.send,
		LoginLimits:             o.LoginLimits,
		OnWebhookChange:         func(string) { a.router.Invalidate() },
		AlertmanagerExternalURL: cfg.Ingest.AlertmanagerExternalURL,
	})
	mux := http.NewServeMux()
	api.New(api.Options{Service: a.Service, Logger: log, Metrics: a.metrics, MaxEventBytes: cfg.Ingest.MaxBodyBytes,
		IngestRateLimit: cfg.Ingest.RateLimit, IngestBurst: cfg.Ingest.RateBurst}).Register(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if _, err := st.GetSettings(ctx); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{}))
	trusted, _ := cfg.TrustedProxyPrefixes()
	mux.Handle("/", web.New(web.Options{Service: a.Service, Logger: log, TrustedProxies: trusted}))
	a.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      90 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return a, nil
}

func openStore(ctx context.Context, cfg config.Config, log *slog.Logger) (store.Store, error) {
	switch cfg.Storage.Driver {
	case "sqlite":
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory %s: %w", cfg.DataDir, err)
		}
		key, err := seal.LoadKey(cfg.SecretKey, cfg.DataDir)
		if err != nil {
			return nil, err
		}
		box, err := seal.New(key)
		if err != nil {
			return nil, err
		}
		lock := filepath.Join(cfg.DataDir, "herald.lock")
		st, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(cfg.DataDir, "herald.db"), Box: box, LockFile: lock,
			Logger: log})
		var le *sqlite.LockedError
		if errors.As(err, &le) {
			who := "another Herald process"
			if le.PID > 0 {
				who = fmt.Sprintf("another Herald process (pid %d)", le.PID)
			}
			return nil, fmt.Errorf("data directory %s is in use by %s: stop that process first, or give this one another data directory (HERALD_DATA_DIR); to run several nodes on one database, use PostgreSQL", cfg.DataDir, who)
		}
		return st, err
	case "postgres":
		// Every node must seal and open secrets with the same key, so it
		// comes from the configuration, never from a node's data directory.
		key, err := seal.ParseKey(cfg.SecretKey)
		if err != nil {
			return nil, err
		}
		box, err := seal.New(key)
		if err != nil {
			return nil, err
		}
		return postgres.Open(ctx, postgres.Options{DSN: cfg.Storage.DatabaseURL, Box: box})
	}
	return nil, fmt.Errorf("storage.driver %q is not available in this build", cfg.Storage.Driver)
}

// MinAdminTokenLen is the shortest bootstrap token (admin_token,
// HERALD_ADMIN_TOKEN) Herald accepts: 32 characters, as long as the tokens it
// generates are strong.
const MinAdminTokenLen = 32

// Bootstrap tokens made from admin_token / HERALD_ADMIN_TOKEN carry IDs
// with this prefix (tokens created through the API are "tok_…"), so that a
// changed value replaces them. Herald before this release named them
// legacyBootstrapName instead.
const (
	bootstrapIDPrefix   = "tokenv"
	legacyBootstrapName = "bootstrap admin (HERALD_ADMIN_TOKEN)"
)

func isConfiguredBootstrap(t *herald.Token) bool {
	return strings.HasPrefix(t.ID, bootstrapIDPrefix+"_") ||
		(t.Name == legacyBootstrapName && t.Role == herald.RolePlatformAdmin)
}

// bootstrapConfigured makes the configured admin token a platform-admin
// token, replacing the one an earlier value made: changing
// HERALD_ADMIN_TOKEN revokes the previous bootstrap token.
func (a *App) bootstrapConfigured(ctx context.Context) error {
	tok := a.cfg.AdminToken
	if tok == "" {
		return nil
	}
	if len(tok) < MinAdminTokenLen {
		return fmt.Errorf("admin_token (HERALD_ADMIN_TOKEN) is %d characters long; a bootstrap token needs at least %d (generate one with: openssl rand -hex 32)", len(tok), MinAdminTokenLen)
	}
	a.AdminTokenSource = AdminTokenConfigured
	hash := service.HashToken(tok)
	ts, err := a.Store.ListTokens(ctx)
	if err != nil {
		return err
	}
	have := false
	for _, t := range ts {
		have = have || t.Hash == hash
	}
	now := time.Now().UTC()
	if !have {
		t := &herald.Token{
			ID: herald.NewID(bootstrapIDPrefix), Name: "bootstrap admin (admin_token / HERALD_ADMIN_TOKEN)", Role: herald.RolePlatformAdmin,
			Projects: []string{}, Hash: hash, CreatedAt: now,
		}
		if err := a.Store.CreateToken(ctx, t); err != nil {
			return err
		}
	}
	// Created first, revoked second: a failure in between leaves access.
	for _, t := range ts {
		if t.Hash == hash || !isConfiguredBootstrap(t) {
			continue
		}
		if err := a.Store.DeleteToken(ctx, t.ID); err != nil && herald.ErrorCode(err) != herald.ENotFound {
			return err
		}
		a.RevokedBootstrapTokens++
		a.auditBootstrap(ctx, "token.delete", t.ID, "admin_token / HERALD_ADMIN_TOKEN changed")
		a.log.Warn("admin_token (HERALD_ADMIN_TOKEN) changed: the previous bootstrap token is revoked", "token", t.ID)
	}
	return nil
}

// auditBootstrap records a change Herald made to the tokens by itself (a
// bootstrap token revoked).
func (a *App) auditBootstrap(ctx context.Context, action, id, reason string) {
	e := &herald.AuditEntry{At: time.Now().UTC(), Actor: "herald", Action: action, Object: id,
		Details: `{"reason":` + strconv.Quote(reason) + `}`}
	if err := a.Store.AppendAudit(ctx, e); err != nil {
		a.log.Error("record audit entry", "action", action, "object", id, "err", err)
	}
}

// bootstrapGenerated gives a first start without a configured token its
// platform-admin token. Start calls it last, once the server listens and
// every part has started, so that a start that fails (a port in use) never
// creates a token it cannot show: the next start creates it instead.
func (a *App) bootstrapGenerated(ctx context.Context) error {
	if a.cfg.AdminToken != "" {
		return nil
	}
	ts, err := a.Store.ListTokens(ctx)
	if err != nil {
		return err
	}
	if len(ts) > 0 {
		a.AdminTokenSource = AdminTokenExisting
		for _, t := range ts {
			if t.Role == herald.RolePlatformAdmin && (a.FirstTokenAt.IsZero() || t.CreatedAt.Before(a.FirstTokenAt)) {
				a.FirstTokenAt = t.CreatedAt
			}
		}
		return nil
	}
	tok := service.NewTokenValue()
	t := &herald.Token{
		ID: herald.NewID("tok"), Name: "bootstrap admin", Role: herald.RolePlatformAdmin,
		Projects: []string{}, Hash: service.HashToken(tok), CreatedAt: time.Now().UTC(),
	}
	if err := a.Store.CreateToken(ctx, t); err != nil {
		return err
	}
	a.GeneratedAdminToken = tok
	a.AdminTokenSource = AdminTokenGenerated
	return nil
}

// Start listens and runs every worker. It returns once the server accepts
// requests. Before any delivery is claimed it releases the leases a previous
// process of this node left (every lease when the node is alone with its
// SQLite database), so that deliveries interrupted by a crash are sent again
// at once instead of when their leases expire.
func (a *App) Start(ctx context.Context) (err error) {
	tlsCfg, err := a.serverTLS()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (set HERALD_LISTEN to another address)", a.cfg.Listen, err)
	}
	a.ln = ln
	if ap, err := netip.ParseAddrPort(ln.Addr().String()); err == nil {
		a.send.SetSelfAddrs([]netip.AddrPort{ap}) // the guard refuses Herald's own address
	}
	ctx, a.cancel = context.WithCancel(ctx)
	defer func() {
		if err != nil {
			a.stopWorkers(context.Background())
			a.cancel()
			ln.Close()
			a.ln = nil
		}
	}()
	release := a.node
	if a.alone {
		release = "" // the data directory lock: no other process uses the database
	}
	n, err := a.Store.ReleaseLeases(ctx, release, time.Now().UTC())
	if err != nil {
		return fmt.Errorf("release the leases of the previous run: %w", err)
	}
	a.metrics.LeasesReclaimed(metrics.ReclaimRestart, n)
	if n > 0 {
		a.log.Info("released the deliveries a previous run left leased", "node", a.node, "deliveries", n)
	}
	if a.live != nil {
		if err := a.live.Start(ctx); err != nil {
			return fmt.Errorf("liveness record: %w", err)
		}
	}
	a.started = true
	a.ing.Start(ctx)
	a.disp.Start(ctx)
	a.prune.Start(ctx)
	if err := a.bootstrapGenerated(ctx); err != nil {
		return fmt.Errorf("create the first admin token: %w", err)
	}
	a.serveErr = make(chan error, 1)
	a.srv.TLSConfig = tlsCfg
	go func() {
		var err error
		if tlsCfg != nil {
			err = a.srv.ServeTLS(ln, "", "") // the certificate comes from tlsCfg
		} else {
			err = a.srv.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		a.serveErr <- err
	}()
	return nil
}

// Addr is the address the server listens on (useful with port 0).
func (a *App) Addr() string { return a.ln.Addr().String() }

// URL is the base URL of the server: https:// when it serves TLS itself.
func (a *App) URL() string {
	if a.cfg.Server.TLS() {
		return "https://" + a.Addr()
	}
	return "http://" + a.Addr()
}

// Close stops gracefully, within ctx's deadline (plus at most a second to
// release leases and close the store):
//   - the HTTP server stops accepting and lets requests in flight finish
//     (events being ingested are committed); at the deadline the remaining
//     connections are cut;
//   - the dispatcher stops claiming, lets requests in flight finish and
//     records them; at the deadline it cancels those still running and
//     releases the leases of every row it has not finished (state
//     unchanged). The ingester still runs meanwhile, so events Herald
//     raises while draining (herald.webhook.disabled) are stored;
//   - then the ingester, the liveness worker and the pruner stop, this
//     node's remaining leases are released, and the store closes.
//
// Reaching the deadline is not an error: what was cut short is delivered
// again (at least once).
func (a *App) Close(ctx context.Context) error {
	var errs []error
	if a.srv != nil && a.ln != nil {
		if err := a.srv.Shutdown(ctx); err != nil {
			if ctx.Err() == nil {
				errs = append(errs, err)
			} else {
				a.log.Warn("drain timeout: closing the HTTP connections still open")
			}
			a.srv.Close()
		}
		if err := <-a.serveErr; err != nil {
			errs = append(errs, err)
		}
	}
	if a.started {
		a.stopWorkers(ctx)
		// Whatever this node still holds (a row handed over at ingest as the
		// dispatcher stopped) is free for the next run or another node.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		if _, err := a.Store.ReleaseLeases(rctx, a.node, time.Now().UTC()); err != nil {
			a.log.Warn("release leases at shutdown", "err", err)
		}
		cancel()
	}
	if a.cancel != nil {
		a.cancel()
	}
	a.send.CloseIdle()
	if err := a.Store.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// stopWorkers stops the background parts in dependency order: the
// dispatcher first (it may still emit events through the ingester), then
// the ingester, then the rest.
func (a *App) stopWorkers(ctx context.Context) {
	if !a.started {
		if a.live != nil {
			a.live.Stop()
		}
		return
	}
	a.started = false
	a.disp.Stop(ctx)
	a.ing.Stop()
	if a.live != nil {
		a.live.Stop()
	}
	a.prune.Stop()
}
