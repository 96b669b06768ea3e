package service_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/seal"
	"github.com/herald-hq/herald/internal/service"
	"github.com/herald-hq/herald/internal/store"
	"github.com/herald-hq/herald/internal/store/sqlite"
)

type bundle struct {
	ctx   context.Context
	svc   *service.Service
	store store.Store
	admin *service.Principal
}

func setup(t *testing.T) *bundle {
	t.Helper()
	ctx := context.Background()
	key, err := seal.ParseKey(seal.GenerateKey())
	if err != nil {
		t.Fatal(err)
	}
	box, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(t.TempDir(), "herald.db"), Box: box})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	admin := &herald.Token{ID: "tok_admin", Name: "admin", Role: herald.RolePlatformAdmin, Projects: []string{}, Hash: service.HashToken("admin-value"), CreatedAt: time.Now()}
	if err := st.CreateToken(ctx, admin); err != nil {
		t.Fatal(err)
	}
	return &bundle{ctx: ctx, svc: service.New(service.Options{Store: st}), store: st, admin: &service.Principal{Token: admin}}
}

func TestCreateUserValidation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ok := service.UserInput{Username: "alice", Password: "long enough password", Role: herald.RoleViewer}
	for _, tc := range []struct {
		name  string
		mod   func(*service.UserInput)
		field string
	}{
		{"no username", func(in *service.UserInput) { in.Username = "  " }, "username"},
		{"bad username", func(in *service.UserInput) { in.Username = "al ice" }, "username"},
		{"leading dot", func(in *service.UserInput) { in.Username = ".alice" }, "username"},
		{"too long", func(in *service.UserInput) { in.Username = strings.Repeat("a", 65) }, "username"},
		{"short password", func(in *service.UserInput) { in.Password = "123456789" }, "password"},
		{"password over bcrypt's 72 bytes", func(in *service.UserInput) { in.Password = strings.Repeat("p", 73) }, "password"},
		{"unknown role", func(in *service.UserInput) { in.Role = "root" }, "role"},
		{"publisher", func(in *service.UserInput) { in.Role = herald.RolePublisher }, "role"},
		{"project-admin without projects", func(in *service.UserInput) { in.Role = herald.RoleProjectAdmin }, "projects"},
		{"empty project", func(in *service.UserInput) { in.Projects = []string{"a", " "} }, "projects"},
	} {
		in := ok
		tc.mod(&in)
		_, err := b.svc.CreateUser(b.ctx, b.admin, in)
		if herald.ErrorCode(err) != herald.EInvalid || herald.ErrorField(err) != tc.field {
			t.Errorf("%s: %v, want invalid %s", tc.name, err, tc.field)
		}
	}

	u, err := b.svc.CreateUser(b.ctx, b.admin, service.UserInput{Username: "alice", Password: "long enough password",
		Role: herald.RoleProjectAdmin, Projects: []string{"beta", "alpha", "beta"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(u.PasswordHash, "long enough") || !strings.HasPrefix(u.PasswordHash, "$2") {
		t.Fatalf("password stored as %q, want a bcrypt hash", u.PasswordHash)
	}
	if strings.Join(u.Projects, ",") != "alpha,beta" {
		t.Fatalf("projects %v, want sorted and unique", u.Projects)
	}
	if _, err := b.svc.CreateUser(b.ctx, b.admin, ok); herald.ErrorCode(err) != herald.EConflict {
		t.Fatalf("duplicate username: %v, want conflict", err)
	}
	audit, _, err := b.svc.Audit(b.ctx, b.admin, store.AuditFilter{})
	if err != nil || len(audit) == 0 || audit[0].Action != "user.create" || strings.Contains(audit[0].Details, "password") {
		t.Fatalf("audit: %+v, %v", audit, err)
	}
}

func TestUsersNeedPlatformAdmin(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, role := range []string{herald.RoleProjectAdmin, herald.RoleViewer, herald.RolePublisher} {
		p := &service.Principal{Token: &herald.Token{ID: "tok_x", Role: role, Projects: []string{"alpha"}}}
		if _, err := b.svc.CreateUser(b.ctx, p, service.UserInput{Username: "bob", Password: "long enough password", Role: herald.RoleViewer}); herald.ErrorCode(err) != herald.EForbidden {
			t.Errorf("%s creates a user: %v", role, err)
		}
		if _, err := b.svc.ListUsers(b.ctx, p); herald.ErrorCode(err) != herald.EForbidden {
			t.Errorf("%s lists users: %v", role, err)
		}
		if err := b.svc.DeleteUser(b.ctx, p, "usr_x"); herald.ErrorCode(err) != herald.EForbidden {
			t.Errorf("%s deletes a user: %v", role, err)
		}
	}
}

func TestLoginAndSessions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	u, err := b.svc.CreateUser(b.ctx, b.admin, service.UserInput{Username: "alice", Password: "correct horse battery", Role: herald.RolePlatformAdmin})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ user, pass string }{{"alice", "wrong horse battery"}, {"nobody", "correct horse battery"}, {"alice", ""}} {
		if _, _, err := b.svc.Login(b.ctx, tc.user, tc.pass, browser); herald.ErrorCode(err) != herald.EUnauthorized ||
			herald.ErrorMessage(err) != "invalid username or password" {
			t.Errorf("login %s/%q: %v, want the same unauthorized answer", tc.user, tc.pass, err)
		}
	}
	se, cookie, err := b.svc.Login(b.ctx, "alice", "correct horse battery", browser)
	if err != nil {
		t.Fatal(err)
	}
	if se.Subject != "user:"+u.ID || se.Hash == cookie || se.CSRF == "" || len(cookie) < 40 {
		t.Fatalf("session %+v / cookie %q", se, cookie)
	}
	if d := time.Until(se.ExpiresAt); d <= 11*time.Hour || d > service.SessionTTL {
		t.Fatalf("session lasts %s", d)
	}
	got, p, err := b.svc.Session(b.ctx, cookie)
	if err != nil || got.ID != se.ID || !p.IsAdmin() || p.Token.ID != "user:"+u.ID || p.Actor() != "user:"+u.ID+" (alice)" {
		t.Fatalf("session: %+v %+v %v", got, p, err)
	}
	if _, _, err := b.svc.Session(b.ctx, cookie+"x"); herald.ErrorCode(err) != herald.EUnauthorized {
		t.Fatalf("unknown cookie: %v", err)
	}

	// A user cannot delete itself; deleting a user ends its sessions.
	if err := b.svc.DeleteUser(b.ctx, p, u.ID); herald.ErrorCode(err) != herald.EConflict {
		t.Fatalf("delete self: %v", err)
	}
	if err := b.svc.DeleteUser(b.ctx, b.admin, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.svc.Session(b.ctx, cookie); herald.ErrorCode(err) != herald.EUnauthorized {
		t.Fatalf("session of a deleted user: %v", err)
	}

	// Logout ends a session.
	if _, err := b.svc.CreateUser(b.ctx, b.admin, service.UserInput{Username: "carol", Password: "correct horse battery", Role: herald.RoleViewer}); err != nil {
		t.Fatal(err)
	}
	se, cookie, err = b.svc.Login(b.ctx, "carol", "correct horse battery", browser)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.svc.Logout(b.ctx, se); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.svc.Session(b.ctx, cookie); herald.ErrorCode(err) != herald.EUnauthorized {
		t.Fatalf("session after logout: %v", err)
	}
}

func TestTokenLogin(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tok, val, err := b.svc.CreateToken(b.ctx, b.admin, service.TokenInput{Name: "ops", Role: herald.RoleProjectAdmin, Projects: []string{"alpha"}})
	if err != nil {
		t.Fatal(err)
	}
	se, cookie, err := b.svc.LoginToken(b.ctx, " "+val+" ", browser)
	if err != nil {
		t.Fatal(err)
	}
	if se.Subject != "token:"+tok.ID || se.Role != herald.RoleProjectAdmin || strings.Join(se.Projects, ",") != "alpha" {
		t.Fatalf("session %+v", se)
	}
	_, p, err := b.svc.Session(b.ctx, cookie)
	if err != nil || !p.CanWrite("alpha") || p.CanWrite("beta") {
		t.Fatalf("principal %+v, %v", p, err)
	}
	if _, _, err := b.svc.LoginToken(b.ctx, "hrld_unknown", browser); herald.ErrorCode(err) != herald.EUnauthorized {
		t.Fatalf("unknown token: %v", err)
	}
	_, pub, err := b.svc.CreateToken(b.ctx, b.admin, service.TokenInput{Name: "ci", Role: herald.RolePublisher})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.svc.LoginToken(b.ctx, pub, browser); herald.ErrorCode(err) != herald.EForbidden {
		t.Fatalf("publisher token: %v, want forbidden", err)
	}

	// An admin session opened with a token cannot delete that token; once
	// the token is deleted (by another admin), its sessions end.
	_, adminVal, err := b.svc.CreateToken(b.ctx, b.admin, service.TokenInput{Name: "second admin", Role: herald.RolePlatformAdmin})
	if err != nil {
		t.Fatal(err)
	}
	se2, cookie2, err := b.svc.LoginToken(b.ctx, adminVal, browser)
	if err != nil {
		t.Fatal(err)
	}
	own := strings.TrimPrefix(se2.Subject, "token:")
	if err := b.svc.DeleteToken(b.ctx, service.SessionPrincipal(se2), own); herald.ErrorCode(err) != herald.EConflict {
		t.Fatalf("delete the session's own token: %v, want conflict", err)
	}
	if err := b.svc.DeleteToken(b.ctx, b.admin, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.svc.Session(b.ctx, cookie); herald.ErrorCode(err) != herald.EUnauthorized {
		t.Fatalf("session of a revoked token: %v", err)
	}
	if _, _, err := b.svc.Session(b.ctx, cookie2); err != nil {
		t.Fatalf("another token's session ended too: %v", err)
	}
}
