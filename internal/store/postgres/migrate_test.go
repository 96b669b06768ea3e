package postgres

import (
	"reflect"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	body := onlineMarker + `-- a comment; with a semicolon
CREATE INDEX CONCURRENTLY IF NOT EXISTS x ON t (a)
    WHERE a IN ('p', 'q');

DROP INDEX CONCURRENTLY IF EXISTS y;
ALTER INDEX IF EXISTS x RENAME TO y`
	want := []string{
		"CREATE INDEX CONCURRENTLY IF NOT EXISTS x ON t (a)\n    WHERE a IN ('p', 'q');",
		"DROP INDEX CONCURRENTLY IF EXISTS y;",
		"ALTER INDEX IF EXISTS x RENAME TO y",
	}
	if got := splitStatements(body); !reflect.DeepEqual(got, want) {
		t.Fatalf("splitStatements:\n got %q\nwant %q", got, want)
	}
}
