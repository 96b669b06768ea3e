package sqlite

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// Delivery IDs are kept as keys (migration 0017): the 16 bytes of the ULID
// after "dlv_" as a BLOB, instead of the 30 characters of text. A delivery's
// ID is its table's primary key and so the tail of every one of its index
// entries: 14 bytes less on each. An ID that is not of that form (none that
// Herald makes) is kept as its text; SQLite compares a BLOB with a TEXT as
// unequal, so each ID has exactly one key, and orders TEXT before BLOB, so
// keys order as their IDs do among the ULID-shaped ones.
const deliveryPrefix = "dlv_"

// keyCrockford is herald.NewID's alphabet, in ascending order.
const keyCrockford = "0123456789abcdefghjkmnpqrstvwxyz"

var keyDigit = func() (d [256]int8) {
	for i := range d {
		d[i] = -1
	}
	for i := range len(keyCrockford) {
		d[keyCrockford[i]] = int8(i)
	}
	return d
}()

// dkey is the stored key of delivery ID id.
func dkey(id string) any {
	if b, ok := ulidBytes(id, deliveryPrefix); ok {
		return b
	}
	return id
}

// ulidBytes decodes prefix + 26 base-32 digits (the first at most 7: 128
// bits) to the ULID's bytes.
func ulidBytes(id, prefix string) ([]byte, bool) {
	s, ok := strings.CutPrefix(id, prefix)
	if !ok || len(s) != 26 || keyDigit[s[0]] > 7 {
		return nil, false
	}
	var b [16]byte
	var acc uint32
	bits, n := -2, 0 // the first digit's top two bits are padding
	for i := range len(s) {
		d := keyDigit[s[i]]
		if d < 0 {
			return nil, false
		}
		acc = acc<<5 | uint32(d)
		bits += 5
		if bits >= 8 {
			bits -= 8
			b[n] = byte(acc >> bits)
			n++
		}
		acc &= 1<<bits - 1
	}
	return b[:], true
}

// ulidText is the inverse of ulidBytes for 16 bytes.
func ulidText(prefix string, b []byte) string {
	var out [26]byte
	var acc uint32
	bits, n := 2, 0 // two padding bits lead
	for _, c := range b {
		acc = acc<<8 | uint32(c)
		bits += 8
		for bits >= 5 {
			bits -= 5
			out[n] = keyCrockford[acc>>bits&31]
			n++
		}
		acc &= 1<<bits - 1
	}
	return prefix + string(out[:])
}

// deliveryID scans a delivery key into an ID.
type deliveryID struct{ dst *string }

// did scans the delivery key of a column into *dst.
func did(dst *string) deliveryID { return deliveryID{dst} }

func (k deliveryID) Scan(v any) error {
	switch v := v.(type) {
	case []byte:
		if len(v) == 16 {
			*k.dst = ulidText(deliveryPrefix, v)
		} else {
			*k.dst = string(v)
		}
	case string:
		*k.dst = v
	case nil:
		*k.dst = ""
	default:
		return fmt.Errorf("delivery key: unexpected %T", v)
	}
	return nil
}

// keyList is ids as a JSON array for keysOf: "x" and the hex of a key's
// bytes, or "t" and an ID kept as text.
func keyList(ids []string) string {
	vs := make([]string, len(ids))
	for i, id := range ids {
		if k, ok := ulidBytes(id, deliveryPrefix); ok {
			vs[i] = "x" + hex.EncodeToString(k)
		} else {
			vs[i] = "t" + id
		}
	}
	b, _ := json.Marshal(vs) // strings always marshal
	return string(b)
}

// keysOf is the SQL of the keys of the keyList in parameter p.
func keysOf(p string) string {
	return `(SELECT iif(substr(value, 1, 1) = 'x', unhex(substr(value, 2)), substr(value, 2)) FROM json_each(` + p + `))`
}
