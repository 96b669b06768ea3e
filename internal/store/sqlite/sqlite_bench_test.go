package sqlite

import (
	"testing"

	"github.com/herald-hq/herald/internal/store"
	"github.com/herald-hq/herald/internal/store/storetest"
)

// BenchmarkStore runs the benchmarks every backend shares (storetest.Bench)
// on a database in b.TempDir() with the default durability
// (synchronous=FULL):
//
//	go test ./internal/store/sqlite -run '^$' -bench Store -benchtime 3s
func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store { return openTest(b, Options{}) })
}
