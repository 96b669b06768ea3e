// Package upgradetest checks that a database written by an earlier Herald
// release is upgraded in place by the current code: its fixtures under
// testdata are databases written at schema version 0012 (the newest
// migration when they were made), one per store, and its tests open them
// with whatever migrations the code now has.
//
//   - testdata/v0012.sqlite is a SQLite database file (herald.db of a data
//     directory; its WAL checkpointed into it).
//   - testdata/v0012_postgres.sql is a plain SQL dump of one PostgreSQL
//     schema, tables and rows; __SCHEMA__ stands for the schema name.
//   - testdata/v0012_secret.key is the key the webhook secrets of both are
//     sealed with (secret.key of the data directory, or HERALD_SECRET_KEY).
//   - testdata/v0012_sqlite.golden.json and v0012_postgres.golden.json are
//     what each store read back right after writing its fixture.
//
// The fixtures hold two webhooks (one with secrets: signing, previous,
// challenge, a basic-auth password and a secret header; the other
// ordered), their events, and deliveries in every state: pending and
// retrying (leased by a node that stopped while the global switch went
// off), held (the switch is off in the fixture's settings), succeeded and
// failed, with attempt rows that carry the request as sent (0012). Fixture
// times are fixed in mid-2025 and the tests configure retention and
// disable_after at 100 years, so nothing in them depends on today's date.
//
// The fixtures are files on purpose: once a newer migration exists, the
// code can no longer write a 0012 database. Regenerate them only from a
// commit whose newest migration is 0012 (the generator refuses otherwise),
// with PostgreSQL at 127.0.0.1:5432 and a pg_dump of the server's major
// version:
//
//	go test ./internal/store/upgradetest -run TestGenerateFixtures -args -update
//
// A second SQLite fixture, testdata/v0015.sqlite (with v0015_secret.key and
// v0015_sqlite.golden.json), was written the same way by commit 6c466fb,
// whose newest migration is 0015, with the generator's constants set to 15
// (fixtureVersion, the file names): its first attempts are kept in the
// first_* columns of 0014, which SQLite's 0017 rewrites. The tests run it as
// the stores entry "sqlite-v0015".
//
// The golden comparison is a subset check: every value in the golden file
// must be read back unchanged; fields a later release adds are logged, not
// failed, so a migration that adds a column must not change what an older
// row reads back as (or must update the expectation in the test, not the
// fixture).
package upgradetest
