package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/herald-hq/herald"
)

// minuteMicros is the width of a delivery_counts row.
const minuteMicros = int64(time.Minute / time.Microsecond)

// minuteCounts adds up the deliveries that finished, by (minute, webhook
// number), for one upsert into delivery_counts.
type minuteCounts struct {
	at    map[[2]int64]int // index into args/4
	args  []any            // minute, hook, succeeded, failed
	order [][2]int64
}

// add counts a delivery of webhook number hook that reached state at µs at;
// states other than succeeded and failed are not counted.
func (c *minuteCounts) add(hook int64, state herald.State, at int64) {
	var ok, failed int64
	switch state {
	case herald.StateSucceeded:
		ok = 1
	case herald.StateFailed:
		failed = 1
	default:
		return
	}
	k := [2]int64{floorDiv(at, minuteMicros), hook}
	if c.at == nil {
		c.at = map[[2]int64]int{}
	}
	i, seen := c.at[k]
	if !seen {
		c.at[k] = len(c.args) / 4
		c.args = append(c.args, k[0], k[1], ok, failed)
		return
	}
	c.args[4*i+2] = c.args[4*i+2].(int64) + ok
	c.args[4*i+3] = c.args[4*i+3].(int64) + failed
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// upsertCounts adds c to delivery_counts.
func (s *Store) upsertCounts(ctx context.Context, tx *sql.Tx, c minuteCounts) error {
	return s.insertChunked(ctx, tx, c.args, 4, upsertCountsSQL)
}

func upsertCountsSQL(n int) string {
	var q strings.Builder
	q.WriteString(`INSERT INTO delivery_counts (minute, hook, succeeded, failed) VALUES `)
	values(&q, n, 4)
	q.WriteString(` ON CONFLICT (minute, hook) DO UPDATE SET
		succeeded = delivery_counts.succeeded + excluded.succeeded, failed = delivery_counts.failed + excluded.failed`)
	return q.String()
}
