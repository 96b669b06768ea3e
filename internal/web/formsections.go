package web

import "github.com/herald-hq/herald"

// AdvancedOpen reports whether the form's advanced section (delivery:
// challenge secret, attempts, timeout, rate limit, order, 4xx retries)
// starts open: when one of its settings differs from the defaults, or one
// of its fields has an error. Otherwise it is collapsed, so that the
// common fields, Send test and Submit are a shorter scroll away.
func (f *webhookForm) AdvancedOpen() bool {
	for _, field := range []string{"challenge_secret", "max_attempts", "timeout", "rate_limit", "ordered", "retry_client_errors"} {
		if f.Err(field) != "" {
			return true
		}
	}
	set := func(v string) bool { return v != "" && v != "0" }
	timeout := f.Timeout != "" && f.Timeout != herald.DefaultTimeout.String()
	return f.ChallengeSecret != "" || f.Has.Challenge || set(f.MaxAttempts) || timeout || set(f.RateLimit) ||
		f.Ordered || !f.RetryClientErrors
}
