package api

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/catalog"
)

func (a *API) eventTypes(w http.ResponseWriter, r *http.Request, p *principal) error {
	writeJSON(w, http.StatusOK, list[herald.EventType]{Data: catalog.EventTypes()})
	return nil
}

type settingsView struct {
	herald.Settings
	Held int `json:"held"`
}

func (a *API) writeSettings(w http.ResponseWriter, r *http.Request) error {
	s, err := a.o.Store.GetSettings(r.Context())
	if err != nil {
		return err
	}
	held, err := a.o.Store.CountDeliveries(r.Context(), herald.StateHeld)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, settingsView{Settings: s, Held: held})
	return nil
}

func (a *API) getSettings(w http.ResponseWriter, r *http.Request, p *principal) error {
	if p.token.Role == herald.RolePublisher {
		return herald.Errorf(herald.EForbidden, "a publisher token may only post events")
	}
	return a.writeSettings(w, r)
}

func (a *API) patchSettings(w http.ResponseWriter, r *http.Request, p *principal) error {
	if err := p.requireAdmin(); err != nil {
		return err
	}
	var in struct {
		WebhooksEnabled *bool `json:"webhooks_enabled"`
		HTTPSOnly       *bool `json:"https_only"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	s, err := a.o.Store.GetSettings(r.Context())
	if err != nil {
		return err
	}
	setIf(&s.WebhooksEnabled, in.WebhooksEnabled)
	setIf(&s.HTTPSOnly, in.HTTPSOnly)
	if err := a.o.Store.UpdateSettings(r.Context(), s, a.o.Now().UTC()); err != nil {
		return err
	}
	a.o.Engine.Wake()
	return a.writeSettings(w, r)
}

// NewTokenValue returns a new bearer token value ("hrld_" + 32 random bytes).
func NewTokenValue() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "hrld_" + base64.RawURLEncoding.EncodeToString(b)
}

type tokenCreated struct {
	*herald.Token
	Value string `json:"token"`
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request, p *principal) error {
	if err := p.requireAdmin(); err != nil {
		return err
	}
	var in struct {
		Name     string   `json:"name"`
		Role     string   `json:"role"`
		Projects []string `json:"projects"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return herald.Invalid("name", "name is required")
	}
	if !herald.ValidRole(in.Role) {
		return herald.Invalid("role", "role %q is not platform-admin, project-admin, viewer or publisher", in.Role)
	}
	for i, pr := range in.Projects {
		if strings.TrimSpace(pr) == "" {
			return herald.Invalid("projects", "projects[%d] is empty", i)
		}
	}
	if in.Role == herald.RoleProjectAdmin && len(in.Projects) == 0 {
		return herald.Invalid("projects", "a project-admin token needs at least one project")
	}
	if in.Projects == nil {
		in.Projects = []string{}
	}
	slices.Sort(in.Projects)
	in.Projects = slices.Compact(in.Projects)
	val := NewTokenValue()
	t := &herald.Token{ID: herald.NewID("tok"), Name: in.Name, Role: in.Role, Projects: in.Projects, Hash: HashToken(val), CreatedAt: a.o.Now().UTC()}
	if err := a.o.Store.CreateToken(r.Context(), t); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, tokenCreated{Token: t, Value: val})
	return nil
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request, p *principal) error {
	if err := p.requireAdmin(); err != nil {
		return err
	}
	ts, err := a.o.Store.ListTokens(r.Context())
	if err != nil {
		return err
	}
	if ts == nil {
		ts = []*herald.Token{}
	}
	writeJSON(w, http.StatusOK, list[*herald.Token]{Data: ts})
	return nil
}

func (a *API) deleteToken(w http.ResponseWriter, r *http.Request, p *principal) error {
	if err := p.requireAdmin(); err != nil {
		return err
	}
	id := r.PathValue("id")
	if id == p.token.ID {
		return herald.Errorf(herald.EConflict, "you cannot delete the token you are using")
	}
	if err := a.o.Store.DeleteToken(r.Context(), id); err != nil {
		return err
	}
	a.tokens.evict(id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
