package bench

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // dbstat reads of the bench's SQLite file
)

// cpuTime is the CPU time (user and system) this process has used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// postgresCPU is the CPU time used so far by this machine's PostgreSQL
// server: every process named postgres, with what its exited children used
// (a backend that ends is counted in the postmaster's). ok is false when
// none is found (a remote server, or no /proc): the figure is then left out
// rather than guessed.
func postgresCPU() (cpu time.Duration, ok bool) {
	dirs, err := os.ReadDir("/proc")
	if err != nil && len(dirs) == 0 {
		return 0, false // what it read before an error still counts
	}
	for _, d := range dirs {
		if d.Name()[0] < '0' || d.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid … : comm may hold spaces, so split after ")".
		open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if open < 0 || end < open || string(b[open+1:end]) != "postgres" {
			continue
		}
		f := strings.Fields(string(b[end+1:]))
		// After comm: state is field 3 of stat(5), so utime (14), stime,
		// cutime and cstime (17) are f[11..14].
		if len(f) < 15 {
			continue
		}
		for _, v := range f[11:15] {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				continue
			}
			cpu += time.Duration(n) * time.Second / clockTicks
		}
		ok = true
	}
	return cpu, ok
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every
// Linux platform Go supports.
const clockTicks = 100

// Disk is what the store keeps on disk after a throughput run, split into
// the events and everything else (deliveries, attempts, the tables that
// deduplicate what attempts share, and all their indexes).
type Disk struct {
	// EventBytes is the events table and its indexes, per event.
	EventBytes float64 `json:"event_bytes_per_event"`
	// DeliveryBytes is the rest of the database (settings, webhooks and
	// accounts included, which are a few pages) per finished delivery: what
	// a delivery costs beyond its event, attempts included.
	DeliveryBytes float64 `json:"delivery_bytes_per_delivery"`
	// Tables is bytes by table (its indexes included).
	Tables map[string]int64 `json:"tables"`
}

// sqliteTables sums dbstat's pages by table, each index counted with its
// table. The app is closed first, so the WAL is checkpointed into the file.
func sqliteTables(ctx context.Context, dir string) (map[string]int64, error) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "herald.db")+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT coalesce(m.tbl_name, s.name), sum(s.pgsize)
		FROM dbstat s LEFT JOIN sqlite_schema m ON m.name = s.name GROUP BY 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return nil, err
		}
		out[name] += n
	}
	return out, rows.Err()
}

// postgresTables reads pg_total_relation_size (heap, TOAST and indexes) of
// each table in the run's schema, after a VACUUM so that dead tuples of
// rows updated during the run are not counted as live data.
func postgresTables(ctx context.Context, dsn string) (map[string]int64, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "VACUUM"); err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, `SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND n.nspname = current_schema()`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return nil, err
		}
		out[name] = n
	}
	return out, rows.Err()
}

func newDisk(tables map[string]int64, events, deliveries int) *Disk {
	d := &Disk{Tables: tables}
	var rest int64
	for name, n := range tables {
		if name == "events" {
			d.EventBytes = float64(n) / float64(max(events, 1))
		} else if !strings.HasPrefix(name, "sqlite_") {
			rest += n
		}
	}
	d.DeliveryBytes = float64(rest) / float64(max(deliveries, 1))
	return d
}

// String lists the tables, largest first.
func (d *Disk) String() string {
	type kv struct {
		k string
		v int64
	}
	var all []kv
	for k, v := range d.Tables {
		all = append(all, kv{k, v})
	}
	slices.SortFunc(all, func(a, b kv) int { return cmp.Compare(b.v, a.v) })
	var b strings.Builder
	for i, t := range all {
		if i == 5 {
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %.1f MB", t.k, float64(t.v)/1e6)
	}
	return b.String()
}
