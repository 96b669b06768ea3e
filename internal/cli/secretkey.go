package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/herald-hq/herald/internal/app"
	"github.com/herald-hq/herald/internal/config"
	"github.com/herald-hq/herald/internal/seal"
)

// newSecretKeyCmd groups the commands that manage the key encrypting
// secrets at rest.
func newSecretKeyCmd(getenv func(string) string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secret-key",
		Short: "Manage the key that encrypts webhook secrets at rest",
	}
	cmd.AddCommand(newSecretKeyRotateCmd(getenv))
	return cmd
}

func newSecretKeyRotateCmd(getenv func(string) string) *cobra.Command {
	var cfgPath, newKey string
	var force bool
	cmd := &cobra.Command{
		Use:   "rotate [--new-key KEY]",
		Short: "Re-encrypt every stored secret with a new key",
		Long: `Re-encrypt every stored secret (passwords, tokens, header values, mTLS keys,
signing and challenge secrets) with a new AES-256 key, in one transaction.

Stop Herald first (every node): a running server keeps encrypting with the old
key. The command opens the configured store (herald.yaml / HERALD_* as for
serve) with the current key: HERALD_SECRET_KEY if set, else secret.key in the
data directory.

The new key is --new-key (32 bytes as base64 or hex, e.g. from
openssl rand -base64 32) or generated. When the current key is the key file,
the file is replaced with the new key (mode 0600). When it comes from
HERALD_SECRET_KEY, set HERALD_SECRET_KEY to the new key on every node before
starting Herald again. Afterwards the old key no longer opens the secrets.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if cfgPath == "" {
				if _, err := os.Stat("herald.yaml"); err == nil {
					cfgPath = "herald.yaml"
				}
			}
			cfg, err := config.Load(cfgPath, getenv)
			if err != nil {
				return fmt.Errorf("configuration: %w", err)
			}
			generated := newKey == ""
			var key []byte
			if generated {
				newKey = seal.GenerateKey()
			}
			if key, err = seal.ParseKey(newKey); err != nil {
				return &exitError{code: 2, msg: "--new-key: " + err.Error()}
			}
			if !force {
				if addr, up := serverRunning(cmd.Context(), cfg.Listen); up {
					return &exitError{code: 1, msg: fmt.Sprintf("Herald answers on %s: stop every Herald node first (a running node keeps encrypting with the old key), or pass --force if that is another server", addr)}
				}
			}

			ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Minute)
			defer cancel()
			res, err := app.RotateSecretKey(ctx, cfg, key, func(step string) { fmt.Fprintln(out, step) })
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "Re-encrypted the secrets of %d webhook(s).\n", res.Webhooks)
			if res.KeyFile != "" {
				fmt.Fprintf(out, "Wrote the new key to %s (mode 0600); the old key is gone.\n\n", res.KeyFile)
				fmt.Fprintln(out, "Next: start Herald as before (herald serve); it reads the new key from that file.")
				fmt.Fprintln(out, "Back the key file up with the database: without it the stored secrets cannot be read.")
				return nil
			}
			fmt.Fprintln(out)
			fmt.Fprintln(out, "Next: the old HERALD_SECRET_KEY no longer opens the secrets. On every Herald node, set")
			if generated {
				fmt.Fprintf(out, "\n  HERALD_SECRET_KEY=%s\n\n", newKey)
				fmt.Fprintln(out, "(shown only this once; keep it in your secret store), then start Herald again.")
			} else {
				fmt.Fprintln(out, "HERALD_SECRET_KEY to the key you gave with --new-key, then start Herald again.")
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&cfgPath, "config", "", "path to herald.yaml (default: ./herald.yaml if it exists)")
	cmd.Flags().StringVar(&newKey, "new-key", "", "the new key: 32 bytes as base64 or hex (default: generate one)")
	cmd.Flags().BoolVar(&force, "force", false, "rotate even though a server answers on the configured listen address")
	return cmd
}

// serverRunning reports whether a Herald answers /healthz on the configured
// listen address (an unspecified host is probed on loopback).
func serverRunning(ctx context.Context, listen string) (string, bool) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil || port == "0" {
		return "", false
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	addr := net.JoinHostPort(host, port)
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
	if err != nil {
		return "", false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", false
	}
	resp.Body.Close()
	return addr, resp.StatusCode == http.StatusOK
}
