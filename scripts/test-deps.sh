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

# Debian packages the integration tests drive for real: Prometheus Alertmanager
# (posts to Herald's /api/v1/alertmanager) and nginx (the mTLS test runs it with
# ssl_verify_client on, as seed 003 tells receivers to; the test starts its own
# instance on a free loopback port). Installed only when missing; where apt
# cannot install them the tests skip with a message.
need=()
command -v prometheus-alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  need+=(nginx)
fi
# Chromium drives the console's browser tests (internal/web); a CJK font lets
# their screenshots of the Chinese pages show Chinese.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -gt 0 ]; then
  echo "test-deps: installing ${need[*]}"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >/tmp/herald-test-deps.log 2>&1; then
    as_root apt-get update >/dev/null 2>&1 || true
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}" >>/tmp/herald-test-deps.log 2>&1 ||
      echo "test-deps: could not install ${need[*]} (see /tmp/herald-test-deps.log); those tests will be skipped"
  fi
fi
