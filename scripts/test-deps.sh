#!/usr/bin/env bash
# Installs and starts what Herald's tests use, idempotently, so that `make test`
# passes on a fresh machine: PostgreSQL (store contract tests), Chromium
# (console tests), nginx (mTLS test), Prometheus Alertmanager, promtool
# (checks deploy/prometheus/alerts.yml), helm and systemd-analyze (deploy/
# checks). Safe to run again and again: it installs only what is missing and
# starts only what is not running.
#
# Outside CI a dependency that cannot be installed or started is a warning:
# the tests that need it skip with a message. With CI=true (CI services set
# it) the script exits 1 after listing what is missing, and those tests fail
# instead of skipping (internal/testenv), so a CI run never passes green with
# tests silently skipped.
set -euo pipefail

in_ci() { case "${CI:-}" in true | TRUE | True | 1 | t | T) return 0 ;; *) return 1 ;; esac; }
problems=()
problem() {
  echo "test-deps: $*" >&2
  problems+=("$*")
}
as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "test-deps: not root and no sudo: cannot run $*" >&2
    return 1
  fi
}
have() { command -v "$1" >/dev/null 2>&1; }
log=/tmp/herald-test-deps.log

# Debian packages the tests drive for real, installed only when missing.
# PostgreSQL: the store contract tests (unless HERALD_TEST_DATABASE_URL points
# at a server). Prometheus Alertmanager: posts to Herald's
# /api/v1/alertmanager. nginx: the mTLS test runs it with ssl_verify_client
# on, as seed 003 tells receivers to (the test starts its own instance on a
# free loopback port). Chromium: the console's browser tests (internal/web);
# a CJK font lets their screenshots of the Chinese pages show Chinese.
# Prometheus: its promtool checks and unit-tests deploy/prometheus/alerts.yml
# (internal/app TestPrometheusRules).
need=()
if [ -z "${HERALD_TEST_DATABASE_URL:-}" ] && ! have pg_ctlcluster; then
  need+=(postgresql)
fi
have prometheus-alertmanager || need+=(prometheus-alertmanager)
have promtool || need+=(prometheus)
if ! have nginx && [ ! -x /usr/sbin/nginx ]; then
  need+=(nginx)
fi
have chromium || need+=(chromium)
# systemd-analyze: internal/deploytest verifies deploy/systemd/herald.service.
have systemd-analyze || need+=(systemd)
fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-wqy-microhei)
if [ ${#need[@]} -gt 0 ]; then
  echo "test-deps: installing ${need[*]}"
  apt_install() { as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$log" 2>&1; }
  if ! apt_install "${need[@]}"; then
    # A stale package list is the usual cause; refresh it once and retry.
    as_root apt-get update >>"$log" 2>&1 || true
    apt_install "${need[@]}" || problem "could not install ${need[*]} (see $log)"
  fi
fi

# PostgreSQL: HERALD_TEST_DATABASE_URL when set, else the local cluster on
# 127.0.0.1:5432 with trust auth and a database "test" (what the tests try).
pg_ok() { PGCONNECT_TIMEOUT=5 psql -w -X -q -tA "$1" -c 'SELECT 1' >/dev/null 2>&1; }
if [ -n "${HERALD_TEST_DATABASE_URL:-}" ]; then
  if ! have psql; then
    problem "psql not installed: cannot check HERALD_TEST_DATABASE_URL"
  elif ! pg_ok "$HERALD_TEST_DATABASE_URL"; then
    problem "PostgreSQL at HERALD_TEST_DATABASE_URL does not answer"
  fi
elif ! have pg_isready; then
  problem "PostgreSQL is not installed"
else
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    version=""
    if [ -d /etc/postgresql ]; then
      version=$(ls /etc/postgresql | sort -V | tail -n1)
    fi
    if [ -n "$version" ] && have pg_ctlcluster; then
      echo "test-deps: starting PostgreSQL $version"
      as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start >>"$log" 2>&1 || true
      for _ in $(seq 1 30); do
        pg_isready -h 127.0.0.1 -p 5432 -q && break
        sleep 1
      done
    fi
  fi
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    problem "PostgreSQL is not reachable on 127.0.0.1:5432 (see $log)"
  else
    url=postgres://postgres@127.0.0.1:5432
    if ! pg_ok "$url/test?sslmode=disable" && pg_ok "$url/postgres?sslmode=disable"; then
      echo "test-deps: creating database test"
      PGCONNECT_TIMEOUT=5 createdb -w -h 127.0.0.1 -U postgres test >>"$log" 2>&1 || true
    fi
    if ! pg_ok "$url/test?sslmode=disable" && ! pg_ok "postgres://root@127.0.0.1:5432/test?sslmode=disable"; then
      problem "PostgreSQL answers on 127.0.0.1:5432 but database test does not accept role postgres or root without a password (the tests need trust auth for 127.0.0.1, or set HERALD_TEST_DATABASE_URL)"
    fi
  fi
fi

# helm: internal/deploytest lints and renders the chart under deploy/helm.
# Installed with the Go toolchain into $(go env GOPATH)/bin, where the test
# looks for it when it is not on PATH.
helm_version=v3.22.0
gobin="$(go env GOPATH 2>/dev/null)/bin"
if ! have helm && [ ! -x "$gobin/helm" ]; then
  echo "test-deps: installing helm $helm_version (go install)"
  if ! go install "helm.sh/helm/v3/cmd/helm@$helm_version" >>"$log" 2>&1; then
    problem "could not install helm (go install helm.sh/helm/v3/cmd/helm@$helm_version; see $log)"
  fi
fi

if [ ${#problems[@]} -gt 0 ]; then
  if in_ci; then
    echo "test-deps: CI is set and ${#problems[@]} test dependencies are missing; failing (the tests would fail on them too):" >&2
    printf '  - %s\n' "${problems[@]}" >&2
    exit 1
  fi
  echo "test-deps: the tests that need what is missing will be skipped with a message (with CI=true they fail)" >&2
fi
exit 0
