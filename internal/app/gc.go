package app

import (
	"runtime/debug"
)

// GC settings TuneGC applies when the environment sets none.
const (
	// DefaultGCPercent trades memory for CPU: Herald's live heap is small
	// (tens of MB) and short-lived garbage is most of what it allocates, so
	// the runtime's default of 100 collects several times a second under
	// load. At 400, GC took about a sixth as much CPU per delivery in
	// `herald bench` (0.141 → 0.120 ms per delivery, peak RSS 134 → 176 MB).
	DefaultGCPercent = 400
	// DefaultMemoryLimit is the soft limit under which the runtime collects
	// sooner than DefaultGCPercent says, so the higher percentage never
	// lets the heap grow past it while there is garbage to free.
	DefaultMemoryLimit = 1 << 30
)

// TuneGC applies DefaultGCPercent and DefaultMemoryLimit unless GOGC or
// GOMEMLIMIT (read with getenv) choose otherwise, and returns what is in
// force. The runtime has read both variables already; this only fills in
// what they leave unset. The server and the bench call it; the app package
// itself never changes process-wide settings.
func TuneGC(getenv func(string) string) (percent int, limit int64) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(DefaultGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(DefaultMemoryLimit)
	}
	percent = debug.SetGCPercent(-1)
	debug.SetGCPercent(percent)
	return percent, debug.SetMemoryLimit(-1)
}
