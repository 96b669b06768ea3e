// Package herald holds Herald's domain types: events, webhooks, deliveries,
// attempts, tokens and settings, with their states and error codes. It does
// no I/O and imports nothing internal, so every other package can depend on it.
package herald

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"
)

// Version is reported in the User-Agent header and by `herald version`.
var Version = "0.1.0"

// UserAgent is sent with every outbound request.
func UserAgent() string { return "Herald/" + Version }

// Roles a token can carry.
const (
	RolePlatformAdmin = "platform-admin"
	RoleProjectAdmin  = "project-admin"
	RoleViewer        = "viewer"
	RolePublisher     = "publisher"
)

// ValidRole reports whether r is one of the four roles.
func ValidRole(r string) bool {
	switch r {
	case RolePlatformAdmin, RoleProjectAdmin, RoleViewer, RolePublisher:
		return true
	}
	return false
}

// Token is an API bearer token. Only the SHA-256 hash of the secret part is stored.
type Token struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Projects  []string  `json:"projects"`
	Hash      string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

// Settings are the global switches, edited by platform admins.
type Settings struct {
	// WebhooksEnabled is Harbor's "Webhooks enabled": off holds every delivery
	// (state held) until it is switched on again. Defaults to true.
	WebhooksEnabled bool `json:"webhooks_enabled"`
	// HTTPSOnly refuses webhook URLs that are not https when saved.
	HTTPSOnly bool `json:"https_only"`
}

// Duration is a time.Duration that reads and writes JSON as a string ("15s").
type Duration time.Duration

// MarshalJSON writes the duration as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// MaxDurationSeconds is the largest integer number of seconds a Duration
// reads from JSON: time.Duration counts nanoseconds in an int64.
const MaxDurationSeconds = int64(math.MaxInt64 / int64(time.Second))

// UnmarshalJSON accepts "15s"-style strings (and, leniently, integer seconds).
// It refuses anything else with a *json.UnmarshalTypeError, which the JSON
// decoder completes with the field's path, so the API can name the field.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return badJSON(b, reflect.TypeFor[Duration]())
		}
		if n > math.MaxInt64/int64(time.Second) || n < math.MinInt64/int64(time.Second) {
			return &json.UnmarshalTypeError{Value: fmt.Sprintf("number %d (seconds, out of range)", n), Type: reflect.TypeFor[Duration]()}
		}
		*d = Duration(time.Duration(n) * time.Second)
		return nil
	}
	if s == "" {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return badJSON(b, reflect.TypeFor[Duration]())
	}
	*d = Duration(v)
	return nil
}

// badJSON describes JSON value b that cannot be a t, the way encoding/json
// does ("string \"soon\"", "object", "bool").
func badJSON(b []byte, t reflect.Type) error {
	desc := "value"
	switch v := strings.TrimSpace(string(b)); {
	case strings.HasPrefix(v, `"`):
		desc = "string " + v
	case strings.HasPrefix(v, "{"):
		desc = "object"
	case strings.HasPrefix(v, "["):
		desc = "array"
	case v == "true" || v == "false":
		desc = "bool"
	case v != "":
		desc = "number " + v
	}
	if len(desc) > 80 {
		desc = desc[:77] + "..."
	}
	return &json.UnmarshalTypeError{Value: desc, Type: t}
}

// Std returns the duration as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// NewID returns a new identifier with the given prefix ("wh", "evt", ...). The
// part after the prefix sorts by creation time (48-bit milliseconds, then 80
// random bits, Crockford base32), so IDs double as pagination cursors.
func NewID(prefix string) string {
	return prefix + "_" + newULID(time.Now())
}

const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

func newULID(t time.Time) string {
	var b [16]byte
	ms := uint64(t.UnixMilli())
	b[0] = byte(ms >> 40)
	b[1] = byte(ms >> 32)
	b[2] = byte(ms >> 24)
	b[3] = byte(ms >> 16)
	b[4] = byte(ms >> 8)
	b[5] = byte(ms)
	if _, err := rand.Read(b[6:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	// 128 bits → 26 base32 characters.
	var sb strings.Builder
	sb.Grow(26)
	var acc uint32
	bits := 0
	// Leading 2 bits padding so the encoding is 130 bits = 26 chars.
	bits = 2
	for _, c := range b {
		acc = acc<<8 | uint32(c)
		bits += 8
		for bits >= 5 {
			bits -= 5
			sb.WriteByte(crockford[(acc>>uint(bits))&31])
		}
	}
	if bits > 0 {
		sb.WriteByte(crockford[(acc<<uint(5-bits))&31])
	}
	return sb.String()
}
