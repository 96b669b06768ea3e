// Package testenv decides what a test does when something it needs from the
// machine is missing (PostgreSQL, Chromium, nginx, Prometheus Alertmanager):
// in CI the test fails, so that a missing dependency can never pass as "ok"
// with every test skipped; elsewhere it is skipped with a message saying how
// to get the dependency (`make test` installs and starts them).
//
// Only tests import it.
package testenv

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// InCI reports whether the tests run in CI: the CI environment variable,
// which CI services set to "true", holds a true value ("true", "1", ...).
func InCI() bool {
	ci, err := strconv.ParseBool(strings.TrimSpace(os.Getenv("CI")))
	return err == nil && ci
}

// Require stops tb unless err is nil. dependency names what is missing
// ("PostgreSQL") and err says why and how to get it. With CI set the test
// fails (t.Fatalf); otherwise it is skipped (t.Skipf) with the same message.
func Require(tb testing.TB, dependency string, err error) {
	tb.Helper()
	if err == nil {
		return
	}
	if InCI() {
		tb.Fatalf("%s is required but not available: %v (CI is set, so a missing test dependency fails instead of skipping)", dependency, err)
		return
	}
	tb.Skipf("%s not available, skipping: %v (with CI=true this fails)", dependency, err)
}

// LookPath returns the path of the first of names found on PATH (or given as
// an absolute path that is executable); when none is, Require decides with
// hint, which says how to install it.
func LookPath(tb testing.TB, dependency, hint string, names ...string) string {
	tb.Helper()
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Require(tb, dependency, &missingError{names: names, hint: hint})
	return ""
}

type missingError struct {
	names []string
	hint  string
}

func (e *missingError) Error() string {
	msg := "none of " + strings.Join(e.names, ", ") + " found"
	if len(e.names) == 1 {
		msg = e.names[0] + " not found"
	}
	if e.hint != "" {
		msg += "; " + e.hint
	}
	return msg
}
