package api

import (
	"net/http"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/service"
)

// registerUsers adds the console-user routes (platform-admin): users log in
// to the web console with a username and password.
func (a *API) registerUsers(h func(pattern string, fn func(w http.ResponseWriter, r *http.Request, p *service.Principal) error)) {
	h("GET /api/v1/users", a.listUsers)
	h("POST /api/v1/users", a.createUser)
	h("DELETE /api/v1/users/{id}", a.deleteUser)
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	if err := p.RequireAdmin(); err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
	var in service.UserInput
	if err := decode(r, &in); err != nil {
		return err
	}
	u, err := a.svc.CreateUser(r.Context(), p, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, u)
	return nil
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	us, err := a.svc.ListUsers(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list[*herald.User]{Data: us})
	return nil
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
	if err := a.svc.DeleteUser(r.Context(), p, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
