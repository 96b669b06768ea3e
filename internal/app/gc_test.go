package app

import (
	"runtime/debug"
	"testing"
)

// TuneGC fills in only what the environment leaves unset.
func TestTuneGC(t *testing.T) {
	percent, limit := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1)
	debug.SetGCPercent(percent)
	t.Cleanup(func() { debug.SetGCPercent(percent); debug.SetMemoryLimit(limit) })

	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	debug.SetGCPercent(100)
	if p, l := TuneGC(getenv); p != DefaultGCPercent || l != DefaultMemoryLimit {
		t.Fatalf("unset environment: GOGC %d, limit %d; want %d, %d", p, l, DefaultGCPercent, DefaultMemoryLimit)
	}
	env["GOGC"], env["GOMEMLIMIT"] = "50", "64MiB"
	debug.SetGCPercent(50)
	debug.SetMemoryLimit(64 << 20)
	if p, l := TuneGC(getenv); p != 50 || l != 64<<20 {
		t.Fatalf("GOGC=50 GOMEMLIMIT=64MiB: got %d, %d; the environment's choice must stand", p, l)
	}
}
