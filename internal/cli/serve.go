package cli

import (
	"context"
	"fmt"
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
			if a.GeneratedAdminToken != "" {
				fmt.Fprintf(out, "\nFirst start: a platform-admin token was created. It is shown only this once:\n\n  %s\n\nUse it as HERALD_TOKEN for the CLI or as a bearer token for the API.\n", a.GeneratedAdminToken)
			}
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
