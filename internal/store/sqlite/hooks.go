package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// A delivery names its webhook, project and event type by number
// (migration 0017). Two tables give each text a number once and never take
// it back (AUTOINCREMENT): hooks numbers webhook IDs, deleted webhooks'
// included, whose deliveries stay in the log; names numbers projects and
// event types. A delivery's hook, project and event_type columns hold those
// numbers, one or two bytes instead of the text.
type numberTable struct{ table, num, text string }

var (
	hooksTable = numberTable{"hooks", "hook", "webhook_id"}
	namesTable = numberTable{"names", "n", "name"}
)

// sqlNumOf is the SQL of the number of the text in parameter p.
func (t numberTable) sqlNumOf(p string) string {
	return `(SELECT ` + t.num + ` FROM ` + t.table + ` WHERE ` + t.text + ` = ` + p + `)`
}

// sqlTextOf is the SQL of the text of the number in column c.
func (t numberTable) sqlTextOf(c string) string {
	return `(SELECT ` + t.text + ` FROM ` + t.table + ` WHERE ` + t.num + ` = ` + c + `)`
}

// numbers is what this process has read of a numberTable, or added to it
// in a transaction that committed. A number handed out in a transaction
// that rolled back may be handed out again, so a transaction's new numbers
// are cached only after its commit (interner).
type numbers struct {
	numberTable
	mu     sync.RWMutex
	byText map[string]int64
	byNum  map[int64]string
}

func newNumbers(t numberTable) *numbers {
	return &numbers{numberTable: t, byText: map[string]int64{}, byNum: map[int64]string{}}
}

func (c *numbers) add(text string, n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.byText[text], c.byNum[n] = n, text
}

func (c *numbers) cached(text string) (int64, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n, ok := c.byText[text]
	return n, ok
}

type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// numOf is the number of text, read through q on a miss; 0, which nothing
// has, when it has none. q must not be a transaction that numbered text
// itself (what it reads is cached).
func (c *numbers) numOf(ctx context.Context, q rowQuerier, text string) (int64, error) {
	if n, ok := c.cached(text); ok {
		return n, nil
	}
	var n int64
	err := q.QueryRowContext(ctx, `SELECT `+c.num+` FROM `+c.table+` WHERE `+c.text+` = ?`, text).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	c.add(text, n)
	return n, nil
}

// textOf is the text of number n, read through q on a miss (with numOf's
// condition on q).
func (c *numbers) textOf(ctx context.Context, q rowQuerier, n int64) (string, error) {
	c.mu.RLock()
	text, ok := c.byNum[n]
	c.mu.RUnlock()
	if ok {
		return text, nil
	}
	if err := q.QueryRowContext(ctx, `SELECT `+c.text+` FROM `+c.table+` WHERE `+c.num+` = ?`, n).Scan(&text); err != nil {
		return "", fmt.Errorf("%s number %d: %w", c.table, n, err)
	}
	c.add(text, n)
	return text, nil
}

// assign is the number of text, given one in tx if it has none; it is not
// cached (tx may yet roll back).
func (c *numbers) assign(ctx context.Context, tx *sql.Tx, text string) (int64, error) {
	if n, ok := c.cached(text); ok {
		return n, nil
	}
	return c.insert(ctx, tx, text)
}

// insert gives text a number in tx unless it has one, and returns it.
func (c *numbers) insert(ctx context.Context, tx *sql.Tx, text string) (int64, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO `+c.table+` (`+c.text+`) VALUES (?) ON CONFLICT DO NOTHING`, text); err != nil {
		return 0, err
	}
	var n int64
	err := tx.QueryRowContext(ctx, `SELECT `+c.num+` FROM `+c.table+` WHERE `+c.text+` = ?`, text).Scan(&n)
	return n, err
}

// interner numbers names inside one write transaction; committed caches
// what it numbered once the transaction has committed.
type interner struct {
	s     *Store
	tx    *sql.Tx
	fresh map[string]int64
}

func (s *Store) interner(tx *sql.Tx) *interner { return &interner{s: s, tx: tx} }

// num is name's number, given one if it has none.
func (in *interner) num(ctx context.Context, name string) (int64, error) {
	if n, ok := in.s.names.cached(name); ok {
		return n, nil
	}
	if n, ok := in.fresh[name]; ok {
		return n, nil
	}
	n, err := in.s.names.insert(ctx, in.tx, name)
	if err != nil {
		return 0, err
	}
	if in.fresh == nil {
		in.fresh = map[string]int64{}
	}
	in.fresh[name] = n
	return n, nil
}

// committed caches the numbers handed out; call it after the commit.
func (in *interner) committed() {
	for name, n := range in.fresh {
		in.s.names.add(name, n)
	}
}
