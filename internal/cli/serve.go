package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/herald-hq/herald/internal/app"
	"github.com/herald-hq/herald/internal/config"
)

func newServeCmd() *cobra.Command {
	var cfgPath string
	var drain time.Duration
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the Herald server (SQLite in ./herald-data on 127.0.0.1:8080 by default)",
		Long: `Run the Herald server.

With no configuration it stores everything in SQLite under ./herald-data and
listens on 127.0.0.1:8080. Settings come from herald.yaml (--config) and the
environment: HERALD_LISTEN, HERALD_DATA_DIR, HERALD_ADMIN_TOKEN,
HERALD_SECRET_KEY, HERALD_ALLOW_CIDRS, HERALD_RETRY_SCHEDULE,
HERALD_DATABASE_URL. SIGTERM or Ctrl-C drains deliveries in flight and exits.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfgPath == "" {
				if _, err := os.Stat("herald.yaml"); err == nil {
					cfgPath = "herald.yaml"
				}
			}
			cfg, err := config.Load(cfgPath, os.Getenv)
			if err != nil {
				return fmt.Errorf("configuration: %w", err)
			}
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			app.TuneGC(os.Getenv)
			ctx := cmd.Context()
			a, err := app.New(ctx, cfg, app.Options{Logger: log})
			if err != nil {
				return err
			}
			if err := a.Start(context.WithoutCancel(ctx)); err != nil {
				a.Close(context.Background())
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "Herald is listening on %s\n", a.URL())
			fmt.Fprintf(out, "  console: %s/\n  api:     %s/api/v1\n", a.URL(), a.URL())
			if cfg.Storage.Driver == "sqlite" {
				fmt.Fprintf(out, "  data:    %s\n", cfg.DataDir)
			}
			printAdminToken(out, a)
			<-ctx.Done()
			fmt.Fprintln(out, "Shutting down: finishing deliveries in flight...")
			sctx, cancel := context.WithTimeout(context.Background(), drain)
			defer cancel()
			if err := a.Close(sctx); err != nil {
				return fmt.Errorf("shutdown: %w", err)
			}
			fmt.Fprintln(out, "Stopped.")
			return nil
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "path to herald.yaml (default: ./herald.yaml if it exists)")
	cmd.Flags().DurationVar(&drain, "drain-timeout", 30*time.Second, "how long to wait for requests and deliveries in flight on shutdown")
	return cmd
}

// printAdminToken tells where platform-admin access comes from: the token a
// first start generated (shown this once), the configured one, or, on later
// starts, how to get access back if the first token was lost.
func printAdminToken(out io.Writer, a *app.App) {
	switch a.AdminTokenSource {
	case app.AdminTokenGenerated:
		fmt.Fprintf(out, "\nFirst start: a platform-admin token was created. It is shown only this once:\n\n  %s\n\n"+
			"Use it as HERALD_TOKEN for the CLI or as a bearer token for the API.\n", a.GeneratedAdminToken)
	case app.AdminTokenConfigured:
		fmt.Fprintln(out, "  admin:   platform-admin token from admin_token / HERALD_ADMIN_TOKEN")
		if a.RevokedBootstrapTokens > 0 {
			fmt.Fprintln(out, "           (it replaces the previous value's token, which is revoked)")
		}
	case app.AdminTokenExisting:
		when := ""
		if !a.FirstTokenAt.IsZero() {
			when = " on " + a.FirstTokenAt.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(out, "  admin:   the platform-admin token was generated at the first start%s and shown then.\n"+
			"           Lost it? Restart with HERALD_ADMIN_TOKEN set to a new secret of %d or more characters\n"+
			"           (for example: export HERALD_ADMIN_TOKEN=$(openssl rand -hex 32)); it becomes a platform-admin token.\n",
			when, app.MinAdminTokenLen)
	}
}
