package service

import (
	"slices"

	"github.com/herald-hq/herald"
)

// Principal is the caller, from its bearer token. Every permission check of
// the API goes through its methods, so the rules live in one place:
//
//   - platform-admin: everything.
//   - project-admin: webhooks and deliveries of its projects (not platform
//     webhooks); may publish events into its projects.
//   - viewer: reads webhooks and deliveries of its projects (all projects
//     when it has none).
//   - publisher: only posts events into its projects (any project when it has
//     none).
type Principal struct {
	Token *herald.Token
}

func (p *Principal) IsAdmin() bool { return p.Token.Role == herald.RolePlatformAdmin }

func (p *Principal) HasProject(project string) bool {
	return slices.Contains(p.Token.Projects, project)
}

// CanRead reports whether p may see objects of project.
func (p *Principal) CanRead(project string) bool {
	switch p.Token.Role {
	case herald.RolePlatformAdmin:
		return true
	case herald.RoleProjectAdmin:
		return project != "" && p.HasProject(project)
	case herald.RoleViewer:
		return len(p.Token.Projects) == 0 || p.HasProject(project)
	}
	return false
}

// CanWrite reports whether p may change webhooks and deliveries of project.
func (p *Principal) CanWrite(project string) bool {
	switch p.Token.Role {
	case herald.RolePlatformAdmin:
		return true
	case herald.RoleProjectAdmin:
		return project != "" && p.HasProject(project)
	}
	return false
}

// CanPublish reports whether p may ingest events into project.
func (p *Principal) CanPublish(project string) bool {
	switch p.Token.Role {
	case herald.RolePlatformAdmin:
		return true
	case herald.RoleProjectAdmin:
		return project != "" && p.HasProject(project)
	case herald.RolePublisher:
		return len(p.Token.Projects) == 0 || p.HasProject(project)
	}
	return false
}

// Readable returns the projects p may read, nil meaning all.
func (p *Principal) Readable() []string {
	switch p.Token.Role {
	case herald.RolePlatformAdmin:
		return nil
	case herald.RoleViewer:
		if len(p.Token.Projects) == 0 {
			return nil
		}
	case herald.RolePublisher:
		return []string{}
	}
	if p.Token.Projects == nil {
		return []string{}
	}
	return p.Token.Projects
}

// RequireRead returns ENotFound (not EForbidden: existence is not revealed)
// when p may not read an object of project.
func (p *Principal) RequireRead(project, kind string) error {
	if !p.CanRead(project) {
		return herald.NotFound(kind)
	}
	return nil
}

// RequireWrite is RequireRead, then EForbidden when p may read but not write.
func (p *Principal) RequireWrite(project, kind string) error {
	if err := p.RequireRead(project, kind); err != nil {
		return err
	}
	if !p.CanWrite(project) {
		return herald.ErrorfKey(herald.EForbidden, "forbidden.change", herald.Args{"role": p.Token.Role, "kind": kind}, "your token (role %s) may not change this %s", p.Token.Role, kind)
	}
	return nil
}

func (p *Principal) RequireAdmin() error {
	if !p.IsAdmin() {
		return herald.ErrorfKey(herald.EForbidden, "forbidden.admin_only", nil, "only a platform-admin token may do this")
	}
	return nil
}
