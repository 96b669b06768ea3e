package herald

import "encoding/json"

// Secret is a string that never prints or marshals its value: fmt, logs and
// JSON see "********" (or "" when empty). Call Reveal where the value is
// really needed (signing, auth headers, encryption at rest).
type Secret string

const masked = "********"

// Mask is what the API and the console show for a set secret; sent back,
// it keeps the stored value.
const Mask Secret = masked

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s != "" }

// String masks the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return masked
}

// GoString masks the value for %#v.
func (s Secret) GoString() string { return s.String() }

// MarshalJSON writes "********" for a set secret, "" otherwise.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads a plain string.
func (s *Secret) UnmarshalJSON(b []byte) error {
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = Secret(v)
	return nil
}

// Masked reports whether v is the placeholder the API returns for a set
// secret; a PATCH that sends it back keeps the stored value.
func Masked(v Secret) bool { return string(v) == masked }
