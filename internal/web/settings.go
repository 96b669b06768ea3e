package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/service"
)

type settingsData struct {
	S      *service.SettingsView
	Tokens []*herald.Token
	Users  []*herald.User
	// NewToken is set right after a token was created: its value, shown once.
	NewToken     *herald.Token
	NewTokenVal  string
	TokenForm    accountForm
	UserForm     accountForm
	Roles        []string
	UserRoles    []string
	SessionOwner string
}

// accountForm is the token or user form as typed, with its errors.
type accountForm struct {
	Name, Role, Projects string
	Errors               map[string]string
}

func (f accountForm) Err(field string) string { return f.Errors[field] }

func splitProjects(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// settingsData loads the page (the service refuses anyone but a
// platform-admin).
func (c *Console) settingsData(r *http.Request, rq *request) (*settingsData, error) {
	ctx := r.Context()
	ts, err := c.svc.ListTokens(ctx, rq.p)
	if err != nil {
		return nil, err
	}
	us, err := c.svc.ListUsers(ctx, rq.p)
	if err != nil {
		return nil, err
	}
	sv, err := c.svc.Settings(ctx, rq.p)
	if err != nil {
		return nil, err
	}
	return &settingsData{
		S: sv, Tokens: ts, Users: us, SessionOwner: rq.sess.Subject,
		Roles:     []string{herald.RolePlatformAdmin, herald.RoleProjectAdmin, herald.RoleViewer, herald.RolePublisher},
		UserRoles: []string{herald.RolePlatformAdmin, herald.RoleProjectAdmin, herald.RoleViewer},
		TokenForm: accountForm{Role: herald.RoleViewer, Errors: map[string]string{}},
		UserForm:  accountForm{Role: herald.RoleViewer, Errors: map[string]string{}},
	}, nil
}

func (c *Console) renderSettings(w http.ResponseWriter, r *http.Request, rq *request, code int, d *settingsData) error {
	return c.render(w, r, rq, code, "settings", "settings.title", "settings", d)
}

func (c *Console) settingsPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	d, err := c.settingsData(r, rq)
	if err != nil {
		return err
	}
	return c.renderSettings(w, r, rq, http.StatusOK, d)
}

// saveSettings saves the global switches (Harbor's "Webhooks enabled" and
// https_only). Unticked boxes are not posted, so both are always sent.
func (c *Console) saveSettings(w http.ResponseWriter, r *http.Request, rq *request) error {
	on, https := r.PostForm.Get("webhooks_enabled") != "", r.PostForm.Get("https_only") != ""
	v, err := c.svc.UpdateSettings(r.Context(), rq.p, service.SettingsPatch{WebhooksEnabled: &on, HTTPSOnly: &https})
	if err != nil {
		return err
	}
	if n := len(v.DisabledWebhooks); n > 0 {
		c.setFlash(w, r, "ok", "flash.settings_saved_https_disabled", strconv.Itoa(n))
	} else {
		c.setFlash(w, r, "ok", "flash.settings_saved")
	}
	http.Redirect(w, r, "/settings", http.StatusSeeOther)
	return nil
}

func (c *Console) createToken(w http.ResponseWriter, r *http.Request, rq *request) error {
	d, err := c.settingsData(r, rq)
	if err != nil {
		return err
	}
	f := accountForm{Name: r.PostForm.Get("name"), Role: r.PostForm.Get("role"), Projects: r.PostForm.Get("projects"), Errors: map[string]string{}}
	t, val, err := c.svc.CreateToken(r.Context(), rq.p, service.TokenInput{Name: f.Name, Role: f.Role, Projects: splitProjects(f.Projects)})
	if err != nil {
		if herald.ErrorCode(err) != herald.EInvalid {
			return err
		}
		f.Errors[herald.ErrorField(err)] = rq.E(err)
		d.TokenForm = f
		return c.renderSettings(w, r, rq, status(err), d)
	}
	// Shown in this answer only: the store keeps just its hash.
	d.NewToken, d.NewTokenVal = t, val
	d.Tokens = append(d.Tokens, t)
	return c.renderSettings(w, r, rq, http.StatusCreated, d)
}

func (c *Console) deleteToken(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("id")
	ts, err := c.svc.ListTokens(r.Context(), rq.p)
	if err != nil {
		return err
	}
	name := id
	for _, t := range ts {
		if t.ID == id {
			name = t.Name
		}
	}
	if ok, err := c.confirmed(w, r, rq, rq.T("confirm.delete_token", name), rq.T("action.delete"), "/settings"); !ok {
		return err
	}
	if err := c.svc.DeleteToken(r.Context(), rq.p, id); err != nil {
		return err
	}
	c.setFlash(w, r, "ok", "flash.token_deleted", name)
	http.Redirect(w, r, "/settings#tokens", http.StatusSeeOther)
	return nil
}

func (c *Console) createUser(w http.ResponseWriter, r *http.Request, rq *request) error {
	d, err := c.settingsData(r, rq)
	if err != nil {
		return err
	}
	f := accountForm{Name: r.PostForm.Get("username"), Role: r.PostForm.Get("role"), Projects: r.PostForm.Get("projects"), Errors: map[string]string{}}
	u, err := c.svc.CreateUser(r.Context(), rq.p, service.UserInput{
		Username: f.Name, Password: r.PostForm.Get("password"), Role: f.Role, Projects: splitProjects(f.Projects),
	})
	if err != nil {
		if code := herald.ErrorCode(err); code != herald.EInvalid && code != herald.EConflict {
			return err
		}
		f.Errors[herald.ErrorField(err)] = rq.E(err)
		d.UserForm = f
		return c.renderSettings(w, r, rq, status(err), d)
	}
	c.setFlash(w, r, "ok", "flash.user_created", u.Username)
	http.Redirect(w, r, "/settings#users", http.StatusSeeOther)
	return nil
}

func (c *Console) deleteUser(w http.ResponseWriter, r *http.Request, rq *request) error {
	id := r.PathValue("id")
	us, err := c.svc.ListUsers(r.Context(), rq.p)
	if err != nil {
		return err
	}
	name := id
	for _, u := range us {
		if u.ID == id {
			name = u.Username
		}
	}
	if ok, err := c.confirmed(w, r, rq, rq.T("confirm.delete_user", name), rq.T("action.delete"), "/settings#users"); !ok {
		return err
	}
	if err := c.svc.DeleteUser(r.Context(), rq.p, id); err != nil {
		return err
	}
	c.setFlash(w, r, "ok", "flash.user_deleted", name)
	http.Redirect(w, r, "/settings#users", http.StatusSeeOther)
	return nil
}
