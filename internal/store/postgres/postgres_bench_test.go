package postgres

import (
	"testing"

	"github.com/herald-hq/herald/internal/store"
	"github.com/herald-hq/herald/internal/store/storetest"
)

// BenchmarkStore runs the benchmarks every backend shares (storetest.Bench)
// in a fresh schema per sub-benchmark, as the tests do; skipped when
// PostgreSQL is unreachable (a failure with CI=true):
//
//	go test ./internal/store/postgres -run '^$' -bench Store -benchtime 3s
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store { return openTest(b, Options{MaxConns: 8}) })
}
