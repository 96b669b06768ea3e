package sqlite

import (
	"testing"

	"github.com/herald-hq/herald/internal/store"
	"github.com/herald-hq/herald/internal/store/storetest"
)

// BenchmarkStore runs the benchmarks every backend shares (storetest.Bench)
// on a database in b.TempDir() (a real disk: the fsync per commit is part of
// what is measured), with the default durability (synchronous=FULL) and,
// for comparison, synchronous=NORMAL:
//
//	go test ./internal/store/sqlite -run '^$' -bench Store -benchtime 3s
func BenchmarkStore(b *testing.B) {
	for _, sync := range []string{"FULL", "NORMAL"} {
		b.Run("sync="+sync, func(b *testing.B) {
			storetest.Bench(b, func(b *testing.B) store.Store { return openTest(b, Options{synchronous: sync}) })
		})
	}
}
