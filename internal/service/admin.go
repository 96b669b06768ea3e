package service

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/catalog"
)

// EventTypes is the catalog.
func (s *Service) EventTypes() []herald.EventType { return catalog.EventTypes() }

// SettingsView is the global settings with the number of held deliveries.
type SettingsView struct {
	herald.Settings
	Held int `json:"held"`
	// DisabledWebhooks are the http webhooks this change switched off
	// (turning https_only on); only in the answer to the change.
	DisabledWebhooks []DisabledWebhook `json:"disabled_webhooks,omitempty"`
}

// SettingsPatch changes the fields given.
type SettingsPatch struct {
	WebhooksEnabled *bool `json:"webhooks_enabled"`
	HTTPSOnly       *bool `json:"https_only"`
}

// Settings returns the global settings; every role but publisher may read them.
func (s *Service) Settings(ctx context.Context, p *Principal) (*SettingsView, error) {
	if p.Token.Role == herald.RolePublisher {
		return nil, herald.ErrorfKey(herald.EForbidden, "token.publisher", nil, "a publisher token may only post events")
	}
	return s.settingsView(ctx)
}

func (s *Service) settingsView(ctx context.Context) (*SettingsView, error) {
	st, err := s.o.Store.GetSettings(ctx)
	if err != nil {
		return nil, err
	}
	held, err := s.o.Store.CountDeliveries(ctx, herald.StateHeld)
	if err != nil {
		return nil, err
	}
	return &SettingsView{Settings: st, Held: held}, nil
}

// UpdateSettings changes the global settings (platform-admin).
func (s *Service) UpdateSettings(ctx context.Context, p *Principal, in SettingsPatch) (*SettingsView, error) {
	if err := p.RequireAdmin(); err != nil {
		return nil, err
	}
	st, err := s.o.Store.GetSettings(ctx)
	if err != nil {
		return nil, err
	}
	if in.WebhooksEnabled != nil {
		st.WebhooksEnabled = *in.WebhooksEnabled
	}
	if in.HTTPSOnly != nil {
		st.HTTPSOnly = *in.HTTPSOnly
	}
	if err := s.o.Store.UpdateSettings(ctx, st, s.now()); err != nil {
		return nil, err
	}
	s.audit(ctx, p, "settings.update", "settings", "", in)
	var disabled []DisabledWebhook
	if in.HTTPSOnly != nil && *in.HTTPSOnly {
		if disabled, err = s.disableHTTPWebhooks(ctx, p); err != nil {
			return nil, err
		}
	}
	s.o.Engine.Wake()
	v, err := s.settingsView(ctx)
	if err != nil {
		return nil, err
	}
	if len(disabled) > 0 {
		v.DisabledWebhooks = disabled
	}
	return v, nil
}

// TokenInput is a token to create.
type TokenInput struct {
	Name     string   `json:"name"`
	Role     string   `json:"role"`
	Projects []string `json:"projects"`
}

// CreateToken creates a token (platform-admin) and returns it with its value,
// to show once.
func (s *Service) CreateToken(ctx context.Context, p *Principal, in TokenInput) (*herald.Token, string, error) {
	if err := p.RequireAdmin(); err != nil {
		return nil, "", err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return nil, "", herald.InvalidKey("name", "token.name.required", nil, "name is required")
	}
	if !herald.ValidRole(in.Role) {
		return nil, "", herald.InvalidKey("role", "token.role.invalid", herald.Args{"value": strconv.Quote(in.Role)}, "role %q is not platform-admin, project-admin, viewer or publisher", in.Role)
	}
	for i, pr := range in.Projects {
		if strings.TrimSpace(pr) == "" {
			return nil, "", herald.InvalidKey("projects", "projects.empty", herald.Args{"index": strconv.Itoa(i)}, "projects[%d] is empty", i)
		}
	}
	if in.Role == herald.RoleProjectAdmin && len(in.Projects) == 0 {
		return nil, "", herald.InvalidKey("projects", "token.projects.required", nil, "a project-admin token needs at least one project")
	}
	if in.Projects == nil {
		in.Projects = []string{}
	}
	slices.Sort(in.Projects)
	in.Projects = slices.Compact(in.Projects)
	val := NewTokenValue()
	t := &herald.Token{ID: herald.NewID("tok"), Name: in.Name, Role: in.Role, Projects: in.Projects, Hash: HashToken(val), CreatedAt: s.now()}
	if err := s.o.Store.CreateToken(ctx, t); err != nil {
		return nil, "", err
	}
	s.audit(ctx, p, "token.create", t.ID, "", map[string]any{"name": t.Name, "role": t.Role, "projects": t.Projects})
	return t, val, nil
}

// ListTokens lists tokens (platform-admin).
func (s *Service) ListTokens(ctx context.Context, p *Principal) ([]*herald.Token, error) {
	if err := p.RequireAdmin(); err != nil {
		return nil, err
	}
	ts, err := s.o.Store.ListTokens(ctx)
	if ts == nil && err == nil {
		ts = []*herald.Token{}
	}
	return ts, err
}

// DeleteToken revokes a token (platform-admin), not the caller's own.
func (s *Service) DeleteToken(ctx context.Context, p *Principal, id string) error {
	if err := p.RequireAdmin(); err != nil {
		return err
	}
	if id == p.Token.ID || p.Token.ID == "token:"+id { // the second: a console session opened with it
		return herald.ErrorfKey(herald.EConflict, "token.delete_self", nil, "you cannot delete the token you are using")
	}
	if err := s.o.Store.DeleteToken(ctx, id); err != nil {
		return err
	}
	s.tokens.evict(id)
	s.audit(ctx, p, "token.delete", id, "", nil)
	return nil
}
