package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/herald-hq/herald"
)

// principal is the caller, from its bearer token. Every permission check of
// the API goes through its methods, so the rules live in one place:
//
//   - platform-admin: everything.
//   - project-admin: webhooks and deliveries of its projects (not platform
//     webhooks); may publish events into its projects.
//   - viewer: reads webhooks and deliveries of its projects (all projects
//     when it has none).
//   - publisher: only posts events into its projects (any project when it has
//     none).
type principal struct {
	token *herald.Token
}

func (p *principal) isAdmin() bool { return p.token.Role == herald.RolePlatformAdmin }

func (p *principal) hasProject(project string) bool {
	return slices.Contains(p.token.Projects, project)
}

// canRead reports whether p may see objects of project.
func (p *principal) canRead(project string) bool {
	switch p.token.Role {
	case herald.RolePlatformAdmin:
		return true
	case herald.RoleProjectAdmin:
		return project != "" && p.hasProject(project)
	case herald.RoleViewer:
		return len(p.token.Projects) == 0 || p.hasProject(project)
	}
	return false
}

// canWrite reports whether p may change webhooks and deliveries of project.
func (p *principal) canWrite(project string) bool {
	switch p.token.Role {
	case herald.RolePlatformAdmin:
		return true
	case herald.RoleProjectAdmin:
		return project != "" && p.hasProject(project)
	}
	return false
}

// canPublish reports whether p may ingest events into project.
func (p *principal) canPublish(project string) bool {
	switch p.token.Role {
	case herald.RolePlatformAdmin:
		return true
	case herald.RoleProjectAdmin:
		return project != "" && p.hasProject(project)
	case herald.RolePublisher:
		return len(p.token.Projects) == 0 || p.hasProject(project)
	}
	return false
}

// readable returns the projects p may read, nil meaning all.
func (p *principal) readable() []string {
	switch p.token.Role {
	case herald.RolePlatformAdmin:
		return nil
	case herald.RoleViewer:
		if len(p.token.Projects) == 0 {
			return nil
		}
	case herald.RolePublisher:
		return []string{}
	}
	if p.token.Projects == nil {
		return []string{}
	}
	return p.token.Projects
}

// requireRead returns ENotFound (not EForbidden: existence is not revealed)
// when p may not read an object of project.
func (p *principal) requireRead(project, kind string) error {
	if !p.canRead(project) {
		return herald.NotFound(kind)
	}
	return nil
}

// requireWrite is requireRead, then EForbidden when p may read but not write.
func (p *principal) requireWrite(project, kind string) error {
	if err := p.requireRead(project, kind); err != nil {
		return err
	}
	if !p.canWrite(project) {
		return herald.Errorf(herald.EForbidden, "your token (role %s) may not change this %s", p.token.Role, kind)
	}
	return nil
}

func (p *principal) requireAdmin() error {
	if !p.isAdmin() {
		return herald.Errorf(herald.EForbidden, "only a platform-admin token may do this")
	}
	return nil
}

func (a *API) authed(fn func(w http.ResponseWriter, r *http.Request, p *principal) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="herald"`)
			writeError(w, r, herald.Errorf(herald.EUnauthorized, "missing bearer token: send Authorization: Bearer <token>"), a.o.Logger)
			return
		}
		t, err := a.lookupToken(r, tok)
		if err != nil {
			if herald.ErrorCode(err) == herald.ENotFound {
				err = herald.Errorf(herald.EUnauthorized, "invalid or revoked token")
				w.Header().Set("WWW-Authenticate", `Bearer realm="herald", error="invalid_token"`)
			}
			writeError(w, r, err, a.o.Logger)
			return
		}
		if err := fn(w, r, &principal{token: t}); err != nil {
			writeError(w, r, err, a.o.Logger)
		}
	})
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

func (a *API) lookupToken(r *http.Request, tok string) (*herald.Token, error) {
	hash := HashToken(tok)
	now := a.o.Now()
	if t := a.tokens.get(hash, now); t != nil {
		return t, nil
	}
	t, err := a.o.Store.TokenByHash(r.Context(), hash)
	if err != nil {
		return nil, err
	}
	a.tokens.put(hash, t, now)
	return t, nil
}
