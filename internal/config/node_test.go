package config

import (
	"os"
	"strings"
	"testing"
)

// node_id comes from the file or HERALD_NODE_ID; by default two nodes on one
// host differ by listen address (PostgreSQL) or data directory (SQLite).
func TestNodeID(t *testing.T) {
	t.Parallel()
	c, err := Load("", env(map[string]string{"HERALD_NODE_ID": "herald-0"}))
	if err != nil || c.Node() != "herald-0" {
		t.Fatalf("HERALD_NODE_ID: %q %v", c.Node(), err)
	}
	host, _ := os.Hostname()
	pg := func(listen string) string {
		c, err := Load("", env(map[string]string{"HERALD_DATABASE_URL": "postgres://db/h", "HERALD_SECRET_KEY": "k", "HERALD_LISTEN": listen}))
		if err != nil {
			t.Fatal(err)
		}
		return c.Node()
	}
	a, b := pg("0.0.0.0:8080"), pg("0.0.0.0:8081")
	if a == b || !strings.HasPrefix(a, host+"/") || a != pg("0.0.0.0:8080") {
		t.Fatalf("PostgreSQL defaults %q and %q: want stable, distinct, starting with the host name %q", a, b, host)
	}
	sq := func(dir string) string {
		c, err := Load("", env(map[string]string{"HERALD_DATA_DIR": dir}))
		if err != nil {
			t.Fatal(err)
		}
		return c.Node()
	}
	if sq("/var/lib/h1") == sq("/var/lib/h2") || !strings.HasSuffix(sq("/var/lib/h1"), "/var/lib/h1") {
		t.Fatalf("SQLite defaults %q, %q", sq("/var/lib/h1"), sq("/var/lib/h2"))
	}
	for _, bad := range []string{"has space", "tab\there", strings.Repeat("x", 201)} {
		if _, err := Load("", env(map[string]string{"HERALD_NODE_ID": bad})); err == nil || !strings.Contains(err.Error(), "node_id") {
			t.Errorf("node_id %q: %v, want an error naming node_id", bad, err)
		}
	}
}
