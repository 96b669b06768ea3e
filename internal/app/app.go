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
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/api"
	"github.com/herald-hq/herald/internal/config"
	"github.com/herald-hq/herald/internal/dispatch"
	"github.com/herald-hq/herald/internal/ingest"
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
	send    *sender.Sender
	reg     *prometheus.Registry

	srv      *http.Server
	ln       net.Listener
	cancel   context.CancelFunc
	serveErr chan error

	// GeneratedAdminToken is set when this start created the bootstrap
	// platform-admin token because none was configured; print it once.
	GeneratedAdminToken string
}

// Options adjust New for embedding (tests, bench).
type Options struct {
	Logger *slog.Logger
	// Store replaces the store the configuration selects.
	Store store.Store
	// ChallengeTimeout bounds the ownership challenge. Defaults to 5s;
	// tests shorten it.
	ChallengeTimeout time.Duration
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
		st, err = openStore(ctx, cfg)
		if err != nil {
			return nil, err
		}
	}
	a.Store = st
	if err := a.bootstrap(ctx); err != nil {
		st.Close()
		return nil, err
	}

	allow, _ := cfg.AllowPrefixes()
	waits, _ := cfg.RetryWaits()
	a.send = sender.New(sender.Options{AllowCIDRs: allow, UserAgent: herald.UserAgent(), ChallengeTimeout: o.ChallengeTimeout})
	a.router = ingest.NewRouter(st, 2*time.Second)
	metrics := dispatch.NewMetrics(a.reg)
	a.disp = dispatch.New(dispatch.Options{
		Store: st, Sender: a.send, Policy: retry.Policy{Schedule: retry.FromWaits(waits)},
		Logger: log, Workers: cfg.Delivery.Workers, PerWebhook: cfg.Delivery.PerWebhookConcurrency,
		Lease: cfg.LeaseDuration(), DisableAfter: cfg.DisableAfterDuration(),
		Emit: func(ctx context.Context, ev *herald.Event) error {
			_, err := a.ing.Ingest(ctx, []*herald.Event{ev})
			return err
		},
		OnWebhookChange: func(string) { a.router.Invalidate() },
		Metrics:         metrics,
	})
	a.prune = retention.New(retention.Options{Store: st, Retention: cfg.RetentionDuration(), Logger: log})
	a.ing = ingest.New(ingest.Options{Store: st, Router: a.router, Handoff: a.disp})

	a.Service = service.New(service.Options{
		Store: st, Ingester: a.ing, Engine: a.disp, Challenger: a.send,
		OnWebhookChange: func(string) { a.router.Invalidate() },
	})
	mux := http.NewServeMux()
	api.New(api.Options{Service: a.Service, Logger: log, MaxEventBytes: cfg.Ingest.MaxBodyBytes,
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
	mux.Handle("/", web.New(web.Options{Service: a.Service, Logger: log}))
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

func openStore(ctx context.Context, cfg config.Config) (store.Store, error) {
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
		return sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(cfg.DataDir, "herald.db"), Box: box})
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

// bootstrap makes sure a platform-admin token exists: the configured one, or
// a generated one on first start.
func (a *App) bootstrap(ctx context.Context) error {
	if tok := a.cfg.AdminToken; tok != "" {
		hash := service.HashToken(tok)
		if _, err := a.Store.TokenByHash(ctx, hash); err == nil {
			return nil
		} else if herald.ErrorCode(err) != herald.ENotFound {
			return err
		}
		return a.Store.CreateToken(ctx, &herald.Token{
			ID: herald.NewID("tok"), Name: "bootstrap admin (HERALD_ADMIN_TOKEN)", Role: herald.RolePlatformAdmin,
			Projects: []string{}, Hash: hash, CreatedAt: time.Now().UTC(),
		})
	}
	ts, err := a.Store.ListTokens(ctx)
	if err != nil {
		return err
	}
	if len(ts) > 0 {
		return nil
	}
	tok := service.NewTokenValue()
	if err := a.Store.CreateToken(ctx, &herald.Token{
		ID: herald.NewID("tok"), Name: "bootstrap admin", Role: herald.RolePlatformAdmin,
		Projects: []string{}, Hash: service.HashToken(tok), CreatedAt: time.Now().UTC(),
	}); err != nil {
		return err
	}
	a.GeneratedAdminToken = tok
	return nil
}

// Start listens and runs every worker. It returns once the server accepts
// requests.
func (a *App) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (set HERALD_LISTEN to another address)", a.cfg.Listen, err)
	}
	a.ln = ln
	ctx, a.cancel = context.WithCancel(ctx)
	a.ing.Start(ctx)
	a.disp.Start(ctx)
	a.prune.Start(ctx)
	a.serveErr = make(chan error, 1)
	go func() {
		err := a.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		a.serveErr <- err
	}()
	return nil
}

// Addr is the address the server listens on (useful with port 0).
func (a *App) Addr() string { return a.ln.Addr().String() }

// URL is the base URL of the server.
func (a *App) URL() string { return "http://" + a.Addr() }

// Close stops gracefully: no new requests, requests in flight finish (events
// being ingested are committed), the dispatcher finishes and records the
// deliveries in flight, then the store closes. Bounded by ctx.
func (a *App) Close(ctx context.Context) error {
	var errs []error
	if a.srv != nil && a.ln != nil {
		if err := a.srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
		if err := <-a.serveErr; err != nil {
			errs = append(errs, err)
		}
	}
	if a.cancel != nil {
		a.cancel()
		a.ing.Wait()
		a.disp.Stop(ctx)
		a.prune.Stop()
	}
	a.send.CloseIdle()
	if err := a.Store.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
