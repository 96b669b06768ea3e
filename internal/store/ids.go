package store

import (
	"strings"
	"sync"

	"github.com/herald-hq/herald"
)

// IDGen hands out herald.NewID values that strictly increase within this
// process. NewID orders by millisecond only (the rest is random), so two
// deliveries made in the same millisecond could sort either way; the delivery
// log ("newest first" by id) and ordered webhooks (claimed in id order among
// rows due at the same time) need creation order. When a fresh ID does not
// sort after the previous one, the previous one plus one is used instead: the
// same shape, still unique. Both stores use one; across nodes, IDs of one
// millisecond may interleave, and each node's own stay in creation order.
type IDGen struct {
	mu   sync.Mutex
	last map[string]string // by prefix
}

// Next returns the next ID with prefix.
func (g *IDGen) Next(prefix string) string {
	id := herald.NewID(prefix)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.last == nil {
		g.last = map[string]string{}
	}
	if last := g.last[prefix]; id <= last {
		id = increment(last)
	}
	g.last[prefix] = id
	return id
}

// crockford is herald.NewID's alphabet, in ascending order.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// increment adds one to the base-32 tail of id, carrying leftwards. The tail
// holds 80 random bits after the timestamp, so it never carries into the
// prefix in practice.
func increment(id string) string {
	b := []byte(id)
	for i := len(b) - 1; i >= 0 && b[i] != '_'; i-- {
		d := indexOf(b[i])
		if d < len(crockford)-1 {
			b[i] = crockford[d+1]
			return string(b)
		}
		b[i] = crockford[0]
	}
	return string(b)
}

func indexOf(c byte) int {
	for i := 0; i < len(crockford); i++ {
		if crockford[i] == c {
			return i
		}
	}
	return 0
}

// FirstAttemptID is the ID of a delivery's first attempt when a store keeps
// it on the delivery's row rather than as an attempt row of its own: the
// delivery's ID with the prefix att_, unique as the delivery's is.
func FirstAttemptID(deliveryID string) string {
	_, rest, ok := strings.Cut(deliveryID, "_")
	if !ok {
		rest = deliveryID
	}
	return "att_" + rest
}
