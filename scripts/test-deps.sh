#!/usr/bin/env bash
# Installs and starts what Herald's tests use, idempotently, so that `make test`
# passes on a fresh machine: PostgreSQL (store contract tests) and, later,
# Chromium (console tests). Safe to run again and again.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# PostgreSQL on 127.0.0.1:5432 (trust auth, database "test").
if command -v pg_isready >/dev/null 2>&1; then
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    echo "test-deps: starting PostgreSQL"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
  pg_isready -h 127.0.0.1 -p 5432 || echo "test-deps: PostgreSQL is not reachable; PostgreSQL tests will be skipped with a message"
else
  echo "test-deps: PostgreSQL client tools not installed; PostgreSQL tests will be skipped with a message"
fi
