package herald

import "time"

// User is a console account created by a platform-admin. It carries a role
// and projects like a token; the password is stored only as a hash.
type User struct {
	ID           string    `json:"id"`
	Username     string    `json:"username"`
	PasswordHash string    `json:"-"`
	Role         string    `json:"role"`
	Projects     []string  `json:"projects"`
	CreatedAt    time.Time `json:"created_at"`
}

// Session is a console login. Only the hash of the session cookie's value is
// stored. It carries the role and projects of the user or token that logged
// in, fixed at login.
type Session struct {
	ID        string    `json:"id"`
	Hash      string    `json:"-"`
	Subject   string    `json:"subject"` // "user:<id>" or "token:<id>"
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Projects  []string  `json:"projects"`
	CSRF      string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// AuditEntry records a configuration change: who, what, when. Details never
// hold secrets (they are masked before the entry is written).
type AuditEntry struct {
	ID      string    `json:"id"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`  // "<token id> (<name>)" for API tokens, "user:<id> (<name>)" or "token:<id> (<name>)" for console sessions, "herald" for the engine
	Action  string    `json:"action"` // "webhook.create", "settings.update", ...
	Object  string    `json:"object"` // the ID changed
	Project string    `json:"project"`
	Details string    `json:"details,omitempty"` // JSON, secrets masked
}
