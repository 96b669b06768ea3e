package store

import "testing"

// The monotonic id generator keeps ids increasing within a millisecond.
func TestIDsIncrease(t *testing.T) {
	t.Parallel()
	var g IDGen
	prev := ""
	for range 10000 {
		id := g.Next("dlv")
		if id <= prev {
			t.Fatalf("%s after %s", id, prev)
		}
		if len(id) != len("dlv_")+26 {
			t.Fatalf("bad id %s", id)
		}
		prev = id
	}
	got := increment("dlv_0000000000000000000000000z")
	if got != "dlv_00000000000000000000000010" {
		t.Fatalf("increment: %s", got)
	}
}
