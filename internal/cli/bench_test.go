package cli

import (
	"strings"
	"testing"
)

// A redirected `herald bench` writes its report and no progress bar (no
// carriage-return lines).
func TestBenchRedirectedDrawsNoProgressBar(t *testing.T) {
	t.Parallel()
	out, code := runCLI(nil, "bench", "--scenario", "throughput", "--events", "200", "--webhooks", "2", "--clients", "4")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	if strings.Contains(out, "\r") || strings.Contains(out, "█") {
		t.Fatalf("progress bar drawn on a non-terminal:\n%q", out)
	}
	if !strings.Contains(out, "end to end:") || !strings.Contains(out, "400 deliveries") {
		t.Fatalf("report missing:\n%s", out)
	}
}
