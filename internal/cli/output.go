package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/client"
)

// printError writes err for a person: "error: <message> (field: url)" and,
// where the kind of error suggests one, "hint: <what to do next>" lines.
func printError(w io.Writer, err error) {
	msg, hints := describeError(err)
	fmt.Fprintln(w, "error:", msg)
	for _, h := range hints {
		fmt.Fprintln(w, "hint:", h)
	}
}

// usageError is a mistake in the command line itself.
type usageError struct {
	cmdPath string // "herald webhook create"
	msg     string
}

func (e *usageError) Error() string { return e.msg }

func usagef(cmdPath, format string, args ...any) error {
	return &usageError{cmdPath: cmdPath, msg: fmt.Sprintf(format, args...)}
}

// hintError adds a next step to an error, for cases where the command knows
// better than the error (a not-found ID: which list shows the valid ones).
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// withNotFoundHint points at listCmd when err says the object does not exist.
func withNotFoundHint(err error, listCmd string) error {
	if herald.ErrorCode(err) == herald.ENotFound {
		return &hintError{err: err, hint: "check the ID; `" + listCmd + "` shows the existing ones"}
	}
	return err
}

func describeError(err error) (string, []string) {
	var hints []string
	var he *hintError
	if errors.As(err, &he) {
		hints = append(hints, he.hint)
	}
	var ue *usageError
	var unreachable *client.UnreachableError
	var apiErr *client.APIError
	var herr *herald.Error
	switch {
	case errors.As(err, &ue):
		if ue.cmdPath != "" {
			hints = append(hints, "run `"+ue.cmdPath+" --help` for usage")
		}
		return ue.msg, hints
	case errors.As(err, &unreachable):
		return fmt.Sprintf("cannot reach Herald at %s (%v)", unreachable.URL, unreachable.Err),
			append(hints, "is `herald serve` running? Set HERALD_URL or pass --server to point at it")
	case errors.As(err, &herr):
		msg := herr.Message
		if herr.Field != "" {
			msg += " (field: " + herr.Field + ")"
		}
		if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
			hints = append(hints, fmt.Sprintf("retry in %s", apiErr.RetryAfter))
		}
		return msg, append(hints, codeHints(herr)...)
	case errors.Is(err, context.Canceled):
		return "interrupted", hints
	}
	return err.Error(), hints
}

func codeHints(e *herald.Error) []string {
	switch e.Code {
	case herald.EUnauthorized:
		return []string{"pass a valid API token with --token or set HERALD_TOKEN"}
	case herald.EForbidden:
		return []string{"this needs a token whose role and projects allow it; ask a platform admin"}
	case herald.EInvalid:
		if flag := flagForField(e.Field); flag != "" {
			return []string{"fix the value given with " + flag}
		}
	case herald.ETooLarge:
		return []string{"send a smaller event, or split the batch"}
	case herald.EUnavailable:
		return []string{"the server is busy or its database is down; try again shortly"}
	}
	return nil
}

var fieldIndex = regexp.MustCompile(`\[\d+\]`)

// flagForField maps an API field ("auth.password", "events[0].type") to the
// flag that sets it, or "" when none does.
func flagForField(field string) string {
	if field == "" {
		return ""
	}
	f := strings.TrimPrefix(fieldIndex.ReplaceAllString(field, ""), "events.")
	head, rest, nested := strings.Cut(f, ".")
	switch {
	case head == "auth" && rest == "type":
		return "--auth-type"
	case (head == "auth" || head == "tls") && nested:
		f = rest
	default:
		f = head
	}
	flags := map[string]string{
		"name": "--name", "project": "--project", "projects": "--project", "url": "--url",
		"category": "--category", "event_types": "--event-type", "conditions": "--condition",
		"severity": "--severity", "language": "--language", "format": "--format",
		"template": "--template-file", "headers": "--header", "type": "--type", "auth": "--auth-type",
		"username": "--username", "password": "--password", "token": "--bearer-token",
		"header_name": "--header-name", "header_value": "--header-value", "cert_pem": "--cert-file",
		"key_pem": "--key-file", "skip_verify": "--skip-tls-verify", "ca_pem": "--ca-file", "secret": "--sign-secret",
		"challenge_secret": "--challenge-secret", "max_attempts": "--max-attempts",
		"timeout": "--timeout", "rate_limit": "--rate-limit", "ordered": "--ordered",
		"retry_client_errors": "--retry-client-errors",
		"standard_headers":    "--standard-headers", "labels": "--label", "data": "--data",
		"source": "--source", "subject": "--subject",
		"id": "--id", "occurred_at": "--occurred-at", "role": "--role", "since": "--since",
		"until": "--until", "state": "--state", "limit": "--limit", "cursor": "--cursor",
		"webhooks_enabled": "--webhooks-enabled", "https_only": "--https-only",
	}
	return flags[f]
}

// printJSON writes v indented, as the API would send it.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// listJSON is the API's list envelope, with [] rather than null when empty.
func listJSON[T any](data []T, next string) any {
	if data == nil {
		data = []T{}
	}
	return struct {
		Data       []T    `json:"data"`
		NextCursor string `json:"next_cursor,omitempty"`
	}{data, next}
}

// table writes aligned columns.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, headers ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	t.row(headers...)
	return t
}

func (t *table) row(cols ...string) {
	for i, c := range cols {
		// A tab or newline in a value would break the alignment.
		cols[i] = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cols, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// fields writes "Label:  value" lines, aligned.
type fields struct{ tw *tabwriter.Writer }

func newFields(w io.Writer) *fields {
	return &fields{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
}

func (f *fields) add(label, value string) {
	fmt.Fprintf(f.tw, "%s:\t%s\n", label, strings.ReplaceAll(value, "\t", " "))
}

func (f *fields) flush() error { return f.tw.Flush() }

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func fmtTimePtr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return fmtTime(*t)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func fmtStatus(code int) string {
	if code == 0 {
		return "-"
	}
	return fmt.Sprint(code)
}

func fmtMillis(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func projectName(p string) string {
	if p == "" {
		return "(platform)"
	}
	return p
}

// truncate shortens s to n runes, on one line.
func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// joinList joins items with ", ", shortened to about n runes with a "+k" tail.
func joinList(items []string, n int) string {
	if len(items) == 0 {
		return "-"
	}
	out := items[0]
	for i, it := range items[1:] {
		if len(out)+2+len(it) > n {
			return fmt.Sprintf("%s, +%d", out, len(items)-1-i)
		}
		out += ", " + it
	}
	return out
}
