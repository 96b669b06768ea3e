package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/herald-hq/herald"
)

// Console users and sessions. A platform-admin creates users (username,
// password, role, projects); anyone with a user or an API token (other than
// a publisher token) may log in to the console, which opens a session that
// carries the role and projects fixed at login. Only SHA-256 hashes of
// session cookies are stored, passwords only as bcrypt hashes.

// SessionTTL is how long a console session lasts (absolute, from login).
const SessionTTL = 12 * time.Hour

// MinPasswordLen is the shortest password accepted for a console user.
// bcrypt reads at most 72 bytes, so longer passwords are refused rather than
// silently truncated.
const (
	MinPasswordLen   = 10
	maxPasswordBytes = 72
	maxUsernameLen   = 64
)

// UserInput is a console user to create.
type UserInput struct {
	Username string   `json:"username"`
	Password string   `json:"password"`
	Role     string   `json:"role"`
	Projects []string `json:"projects"`
}

// validUsername: 1 to 64 of letters, digits, '.', '_', '-', '@', starting
// with a letter or digit.
func validUsername(u string) bool {
	if u == "" || len(u) > maxUsernameLen {
		return false
	}
	for i, c := range u {
		alnum := c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !alnum && (i == 0 || !strings.ContainsRune("._-@", c)) {
			return false
		}
	}
	return true
}

// CreateUser creates a console user (platform-admin).
func (s *Service) CreateUser(ctx context.Context, p *Principal, in UserInput) (*herald.User, error) {
	if err := p.RequireAdmin(); err != nil {
		return nil, err
	}
	in.Username = strings.TrimSpace(in.Username)
	if in.Username == "" {
		return nil, herald.InvalidKey("username", "user.username.required", nil, "username is required")
	}
	if !validUsername(in.Username) {
		return nil, herald.InvalidKey("username", "user.username.invalid", herald.Args{"max": strconv.Itoa(maxUsernameLen)}, "username must be at most %d letters, digits, '.', '_', '-' or '@', starting with a letter or digit", maxUsernameLen)
	}
	if len([]rune(in.Password)) < MinPasswordLen {
		return nil, herald.InvalidKey("password", "user.password.too_short", herald.Args{"min": strconv.Itoa(MinPasswordLen)}, "password must be at least %d characters", MinPasswordLen)
	}
	if len(in.Password) > maxPasswordBytes {
		return nil, herald.InvalidKey("password", "user.password.too_long", herald.Args{"max": strconv.Itoa(maxPasswordBytes)}, "password must be at most %d bytes", maxPasswordBytes)
	}
	switch in.Role {
	case herald.RolePlatformAdmin, herald.RoleProjectAdmin, herald.RoleViewer:
	case herald.RolePublisher:
		return nil, herald.InvalidKey("role", "user.role.publisher", nil, "a console user cannot be a publisher (publishers only post events; create a token)")
	default:
		return nil, herald.InvalidKey("role", "user.role.invalid", herald.Args{"value": strconv.Quote(in.Role)}, "role %q is not platform-admin, project-admin or viewer", in.Role)
	}
	projects := make([]string, 0, len(in.Projects))
	for i, pr := range in.Projects {
		pr = strings.TrimSpace(pr)
		if pr == "" {
			return nil, herald.InvalidKey("projects", "projects.empty", herald.Args{"index": strconv.Itoa(i)}, "projects[%d] is empty", i)
		}
		projects = append(projects, pr)
	}
	if in.Role == herald.RoleProjectAdmin && len(projects) == 0 {
		return nil, herald.InvalidKey("projects", "user.projects.required", nil, "a project-admin needs at least one project")
	}
	slices.Sort(projects)
	projects = slices.Compact(projects)
	hash, err := bcrypt.GenerateFromPassword([]byte(in.Password), bcrypt.DefaultCost)
	if err != nil {
		return nil, err
	}
	u := &herald.User{
		ID: herald.NewID("usr"), Username: in.Username, PasswordHash: string(hash),
		Role: in.Role, Projects: projects, CreatedAt: s.now(),
	}
	if err := s.o.Store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	s.audit(ctx, p, "user.create", u.ID, "", map[string]any{"username": u.Username, "role": u.Role, "projects": u.Projects})
	return u, nil
}

// ListUsers lists console users (platform-admin).
func (s *Service) ListUsers(ctx context.Context, p *Principal) ([]*herald.User, error) {
	if err := p.RequireAdmin(); err != nil {
		return nil, err
	}
	us, err := s.o.Store.ListUsers(ctx)
	if us == nil && err == nil {
		us = []*herald.User{}
	}
	return us, err
}

// DeleteUser removes a console user and ends its sessions (platform-admin),
// not the caller's own account.
func (s *Service) DeleteUser(ctx context.Context, p *Principal, id string) error {
	if err := p.RequireAdmin(); err != nil {
		return err
	}
	if p.Token.ID == "user:"+id {
		return herald.ErrorfKey(herald.EConflict, "user.delete_self", nil, "you cannot delete the user you are logged in as")
	}
	if err := s.o.Store.DeleteUser(ctx, id); err != nil {
		return err
	}
	s.audit(ctx, p, "user.delete", id, "", nil)
	return nil
}

// dummyHash is compared against when a username is unknown, so that a login
// takes as long for an unknown user as for a wrong password.
var dummyHash = sync.OnceValue(func() []byte {
	h, err := bcrypt.GenerateFromPassword([]byte("herald-timing-equalizer"), bcrypt.DefaultCost)
	if err != nil {
		panic(err)
	}
	return h
})

// errBadLogin does not say which of username or password was wrong.
func errBadLogin() error {
	return herald.ErrorfKey(herald.EUnauthorized, "login.failed", nil, "invalid username or password")
}

// Login checks a console user's password and opens a session. It returns
// the session and the cookie value to hand to the browser (shown once; only
// its hash is stored). from is the client's address, which failed logins are
// counted by (see LoginMaxFailures); the zero Addr counts as one unknown
// client.
func (s *Service) Login(ctx context.Context, username, password string, from netip.Addr) (*herald.Session, string, error) {
	if err := s.logins.check(username, from, s.now()); err != nil {
		return nil, "", err
	}
	u, err := s.o.Store.UserByName(ctx, strings.TrimSpace(username))
	if err != nil {
		if herald.ErrorCode(err) != herald.ENotFound {
			return nil, "", err
		}
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		s.logins.fail(username, from, s.now())
		return nil, "", errBadLogin()
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		s.logins.fail(username, from, s.now())
		return nil, "", errBadLogin()
	}
	s.logins.succeed(username, from)
	return s.openSession(ctx, "user:"+u.ID, u.Username, u.Role, u.Projects)
}

// LoginToken opens a console session for an API token. Publisher tokens
// may only post events and cannot log in. An unknown token counts as a
// failed login of the client address from (see LoginMaxAddrFailures).
func (s *Service) LoginToken(ctx context.Context, token string, from netip.Addr) (*herald.Session, string, error) {
	if err := s.logins.checkAddr(from, s.now()); err != nil {
		return nil, "", err
	}
	p, err := s.Authenticate(ctx, strings.TrimSpace(token))
	if err != nil {
		if herald.ErrorCode(err) == herald.EUnauthorized {
			s.logins.failAddr(from, s.now())
		}
		return nil, "", err
	}
	if p.Token.Role == herald.RolePublisher {
		return nil, "", herald.ErrorfKey(herald.EForbidden, "login.publisher", nil, "a publisher token may only post events; it cannot use the console")
	}
	return s.openSession(ctx, "token:"+p.Token.ID, p.Token.Name, p.Token.Role, p.Token.Projects)
}

func (s *Service) openSession(ctx context.Context, subject, name, role string, projects []string) (*herald.Session, string, error) {
	now := s.now()
	value := randomString(32)
	if projects == nil {
		projects = []string{}
	}
	se := &herald.Session{
		ID: herald.NewID("ses"), Hash: HashToken(value), Subject: subject, Name: name,
		Role: role, Projects: projects, CSRF: randomString(32),
		CreatedAt: now, ExpiresAt: now.Add(SessionTTL),
	}
	if err := s.o.Store.CreateSession(ctx, se); err != nil {
		return nil, "", err
	}
	return se, value, nil
}

// Session returns the live session of a cookie value and its principal;
// EUnauthorized when it is unknown, expired, or its token was revoked since
// login (a deleted user's sessions are removed with it).
func (s *Service) Session(ctx context.Context, cookie string) (*herald.Session, *Principal, error) {
	if cookie == "" {
		return nil, nil, herald.ErrorfKey(herald.EUnauthorized, "session.none", nil, "not logged in")
	}
	se, err := s.o.Store.SessionByHash(ctx, HashToken(cookie), s.now())
	if err != nil {
		if herald.ErrorCode(err) == herald.ENotFound {
			return nil, nil, herald.ErrorfKey(herald.EUnauthorized, "session.expired", nil, "session expired or unknown; log in again")
		}
		return nil, nil, err
	}
	if id, ok := strings.CutPrefix(se.Subject, "token:"); ok {
		live, err := s.tokenExists(ctx, id)
		if err != nil {
			return nil, nil, err
		}
		if !live {
			_ = s.o.Store.DeleteSession(context.WithoutCancel(ctx), se.ID)
			return nil, nil, herald.ErrorfKey(herald.EUnauthorized, "session.revoked", nil, "the token of this session was revoked; log in again")
		}
	}
	return se, SessionPrincipal(se), nil
}

func (s *Service) tokenExists(ctx context.Context, id string) (bool, error) {
	ts, err := s.o.Store.ListTokens(ctx)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(ts, func(t *herald.Token) bool { return t.ID == id }), nil
}

// SessionPrincipal is the caller of a console session. Its Token.ID is the
// session's subject ("user:<id>" or "token:<id>"), which is what the audit
// log records.
func SessionPrincipal(se *herald.Session) *Principal {
	return &Principal{Token: &herald.Token{ID: se.Subject, Name: se.Name, Role: se.Role, Projects: se.Projects}}
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, se *herald.Session) error {
	return s.o.Store.DeleteSession(ctx, se.ID)
}

func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
