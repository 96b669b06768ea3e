package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/herald-hq/herald/internal/config"
	"github.com/herald-hq/herald/internal/seal"
)

// KeyRotation reports a secret-key rotation.
type KeyRotation struct {
	// Webhooks is how many webhooks had their secrets re-encrypted.
	Webhooks int
	// KeyFile is the key file that now holds the new key; "" when the key
	// comes from HERALD_SECRET_KEY (secret_key), which the operator must
	// change on every node.
	KeyFile string
}

// CurrentKeySource describes where cfg takes the secret key from, for
// messages: "HERALD_SECRET_KEY" or the key file's path.
func CurrentKeySource(cfg config.Config) string {
	if cfg.SecretKey != "" {
		return "HERALD_SECRET_KEY (secret_key)"
	}
	return filepath.Join(cfg.DataDir, seal.KeyFile)
}

// RotateSecretKey re-encrypts every stored secret with newKey (32 bytes).
// It opens the configured store with the current key — secret_key
// (HERALD_SECRET_KEY) or the data directory's secret.key, never a generated
// one — and re-seals all webhook secrets in one transaction: on any error
// nothing changes. When the current key lives in the key file, the file is
// replaced by newKey (mode 0600) once the database is re-sealed; the new key
// is written next to it first (secret.key.new) so an interruption cannot
// lose it. Herald must not be running meanwhile: a running node keeps
// sealing with the old key. progress (may be nil) hears each step.
func RotateSecretKey(ctx context.Context, cfg config.Config, newKey []byte, progress func(step string)) (*KeyRotation, error) {
	if progress == nil {
		progress = func(string) {}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	newBox, err := seal.New(newKey)
	if err != nil {
		return nil, fmt.Errorf("new key: %w", err)
	}
	var cur []byte
	keyFile := ""
	if cfg.SecretKey != "" {
		if cur, err = seal.ParseKey(cfg.SecretKey); err != nil {
			return nil, err
		}
	} else {
		keyFile = filepath.Join(cfg.DataDir, seal.KeyFile)
		if _, err := os.Stat(filepath.Join(cfg.DataDir, "herald.db")); err != nil {
			return nil, fmt.Errorf("no Herald database in %s (set HERALD_DATA_DIR or --config): %w", cfg.DataDir, err)
		}
		b, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, fmt.Errorf("read the current key: %w", err)
		}
		if cur, err = seal.ParseKey(string(b)); err != nil {
			return nil, fmt.Errorf("%s: %w", keyFile, err)
		}
	}
	if bytes.Equal(cur, newKey) {
		return nil, errors.New("the new key is the current key")
	}

	where := cfg.DataDir
	if cfg.Storage.Driver != "sqlite" {
		where = "storage.database_url"
	}
	progress(fmt.Sprintf("Opening the %s store (%s) with the current key from %s...", cfg.Storage.Driver, where, CurrentKeySource(cfg)))
	// openStore reads the key from cfg.SecretKey when it is set: give it the
	// current key explicitly so that nothing is ever generated here.
	cfg.SecretKey = base64.StdEncoding.EncodeToString(cur)
	st, err := openStore(ctx, cfg, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		return nil, err
	}
	defer st.Close()

	pending := ""
	if keyFile != "" {
		pending = keyFile + ".new"
		f, err := os.OpenFile(pending, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("%s exists: an earlier rotation was interrupted. If Herald cannot read its secrets with %s, that file holds the key the database is sealed with: move it to %s; otherwise delete it, then run the rotation again", pending, keyFile, keyFile)
		}
		if err != nil {
			return nil, fmt.Errorf("write the new key: %w", err)
		}
		_, werr := f.WriteString(base64.StdEncoding.EncodeToString(newKey) + "\n")
		if werr == nil {
			werr = f.Sync()
		}
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			os.Remove(pending)
			return nil, fmt.Errorf("write the new key: %w", werr)
		}
	}
	progress("Re-encrypting every stored secret with the new key (one transaction)...")
	n, err := st.Reseal(ctx, newBox)
	if err != nil {
		if pending != "" {
			os.Remove(pending)
		}
		return nil, fmt.Errorf("re-encrypt the secrets (nothing was changed): %w", err)
	}
	out := &KeyRotation{Webhooks: n}
	if pending != "" {
		if err := os.Rename(pending, keyFile); err != nil {
			return nil, fmt.Errorf("the secrets are re-encrypted with the new key, which is in %s, but it could not replace %s: %w; move it there before starting Herald", pending, keyFile, err)
		}
		if d, err := os.Open(filepath.Dir(keyFile)); err == nil {
			d.Sync()
			d.Close()
		}
		out.KeyFile = keyFile
	}
	return out, nil
}
