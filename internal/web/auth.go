package web

import (
	"net/http"
	"time"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/service"
)

type loginData struct {
	Next     string
	Method   string // "password" or "token": the form that failed
	Username string
	Error    string
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	next := localPath(r.URL.Query().Get("next"), "/webhooks")
	if rq.sess != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	return c.render(w, r, rq, http.StatusOK, "login", "login.title", "", loginData{Next: next})
}

// login opens a session with a username and password or with an API token,
// replacing any session the browser had. Failed logins are throttled by the
// client's address (see service.LoginMaxFailures and client).
func (c *Console) login(w http.ResponseWriter, r *http.Request, rq *request) error {
	f := r.PostForm
	d := loginData{Next: localPath(f.Get("next"), "/webhooks"), Method: f.Get("method")}
	var (
		se    *herald.Session
		value string
		err   error
		from  = clientOf(r).addr
	)
	if d.Method == "token" {
		se, value, err = c.svc.LoginToken(r.Context(), f.Get("token"), from)
	} else {
		d.Method, d.Username = "password", f.Get("username")
		se, value, err = c.svc.Login(r.Context(), d.Username, f.Get("password"), from)
	}
	if err != nil {
		switch herald.ErrorCode(err) {
		case herald.EUnauthorized:
			d.Error = rq.T("login.failed_password")
			if d.Method == "token" {
				d.Error = rq.T("login.failed_token")
			}
		case herald.EForbidden:
			d.Error = rq.T("login.publisher")
		case herald.ERateLimited:
			d.Error = rq.E(err)
		default:
			return err
		}
		return c.render(w, r, rq, status(err), "login", "login.title", "", d)
	}
	if rq.sess != nil {
		_ = c.svc.Logout(r.Context(), rq.sess)
	}
	setCookie(w, r, sessionCookie, value, int(time.Until(se.ExpiresAt).Seconds()))
	clearCookie(w, r, csrfCookie)
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
	return nil
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, rq *request) error {
	if err := c.svc.Logout(r.Context(), rq.sess); err != nil {
		return err
	}
	clearCookie(w, r, sessionCookie)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// canCreate reports whether the caller may create a webhook somewhere: as a
// platform webhook or in one of its projects (the service's own rules).
func canCreate(p *service.Principal) bool {
	if p.CanWrite("") {
		return true
	}
	for _, pr := range p.Token.Projects {
		if p.CanWrite(pr) {
			return true
		}
	}
	return false
}
