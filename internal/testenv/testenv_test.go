package testenv

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// recorder is a testing.TB that records how Require stopped it.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()                           {}
func (r *recorder) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }
func (r *recorder) Skipf(format string, args ...any)  { r.skip = fmt.Sprintf(format, args...) }

func TestRequire(t *testing.T) {
	missing := errors.New("connection refused; start it with pg_ctlcluster")
	for _, tc := range []struct {
		ci              string
		err             error
		wantFatal, skip bool
	}{
		{ci: "true", err: missing, wantFatal: true},
		{ci: "1", err: missing, wantFatal: true},
		{ci: "TRUE", err: missing, wantFatal: true},
		{ci: "", err: missing, skip: true},
		{ci: "false", err: missing, skip: true},
		{ci: "0", err: missing, skip: true},
		{ci: "yes please", err: missing, skip: true},
		{ci: "true", err: nil},
		{ci: "", err: nil},
	} {
		t.Run(fmt.Sprintf("CI=%q/err=%v", tc.ci, tc.err != nil), func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			r := &recorder{}
			Require(r, "PostgreSQL", tc.err)
			if (r.fatal != "") != tc.wantFatal || (r.skip != "") != tc.skip {
				t.Fatalf("fatal %q, skip %q; want fatal %v, skip %v", r.fatal, r.skip, tc.wantFatal, tc.skip)
			}
			for _, msg := range []string{r.fatal, r.skip} {
				if msg != "" && (!strings.Contains(msg, "PostgreSQL") || !strings.Contains(msg, "pg_ctlcluster")) {
					t.Fatalf("the message does not name the dependency and the hint: %q", msg)
				}
			}
		})
	}
}

func TestLookPath(t *testing.T) {
	t.Setenv("CI", "true")
	r := &recorder{}
	if p := LookPath(r, "a shell", "", "herald-no-such-binary", "sh"); p == "" || r.fatal != "" {
		t.Fatalf("sh not found: %q, %q", p, r.fatal)
	}
	r = &recorder{}
	if p := LookPath(r, "nginx", "apt-get install -y nginx-light", "herald-no-such-nginx"); p != "" || !strings.Contains(r.fatal, "apt-get install -y nginx-light") {
		t.Fatalf("a missing binary: %q, fatal %q", p, r.fatal)
	}
	t.Setenv("CI", "")
	r = &recorder{}
	LookPath(r, "nginx", "apt-get install -y nginx-light", "herald-no-such-nginx")
	if r.fatal != "" || !strings.Contains(r.skip, "herald-no-such-nginx not found") {
		t.Fatalf("outside CI: fatal %q, skip %q", r.fatal, r.skip)
	}
}
