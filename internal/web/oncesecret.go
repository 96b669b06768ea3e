package web

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// A new or rotated signing secret is shown on a page reached by a redirect
// (post/redirect/get: reloading it does not post the form again). The
// secret waits for that page in memory, never in the database, a cookie
// or a URL: under a random key, for the session that created it only, for
// secretSlotTTL. Reloading the page within that time shows it again; after
// it (or on another node, or after a restart) the page says it is no
// longer shown, and rotating makes a new one.
const (
	secretSlotTTL = 10 * time.Minute
	maxSecretSlot = 1000 // the oldest slot is dropped beyond this
)

type secretSlot struct {
	session, webhook string
	data             createdData
	expires          time.Time
}

type secretSlots struct {
	mu    sync.Mutex
	m     map[string]*secretSlot
	order []string // keys, oldest first
}

func newSecretSlots() *secretSlots { return &secretSlots{m: map[string]*secretSlot{}} }

// put keeps d for session and returns its key.
func (s *secretSlots) put(session string, d createdData, now time.Time) string {
	b := make([]byte, 18)
	rand.Read(b)
	key := base64.RawURLEncoding.EncodeToString(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	// Drop the expired, and the oldest beyond the bound.
	keep := s.order[:0]
	for _, k := range s.order {
		if sl := s.m[k]; sl != nil && now.Before(sl.expires) {
			keep = append(keep, k)
		} else {
			delete(s.m, k)
		}
	}
	s.order = keep
	for len(s.order) >= maxSecretSlot {
		delete(s.m, s.order[0])
		s.order = s.order[1:]
	}
	s.m[key] = &secretSlot{session: session, webhook: d.W.ID, data: d, expires: now.Add(secretSlotTTL)}
	s.order = append(s.order, key)
	return key
}

// get returns the slot of key if it belongs to session and webhook and has
// not expired.
func (s *secretSlots) get(key, session, webhook string, now time.Time) (createdData, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl := s.m[key]
	if sl == nil || sl.session != session || sl.webhook != webhook || !now.Before(sl.expires) {
		return createdData{}, false
	}
	return sl.data, true
}

// showSecret redirects (303) to the page that shows d's secret.
func (c *Console) showSecret(w http.ResponseWriter, r *http.Request, rq *request, d createdData) error {
	key := c.secrets.put(rq.sess.ID, d, time.Now())
	http.Redirect(w, r, "/webhooks/"+d.W.ID+"/created?k="+key, http.StatusSeeOther)
	return nil
}

// createdPage shows a secret kept by showSecret, or says it is gone.
func (c *Console) createdPage(w http.ResponseWriter, r *http.Request, rq *request) error {
	wh, err := c.svc.GetWebhook(r.Context(), rq.p, r.PathValue("id"))
	if err != nil {
		return err
	}
	d, ok := c.secrets.get(r.URL.Query().Get("k"), rq.sess.ID, wh.ID, time.Now())
	if !ok {
		return c.render(w, r, rq, http.StatusOK, "webhook_created", "created.gone_title", "webhooks", createdData{W: wh, Gone: true})
	}
	d.W = wh
	title := "created.title"
	if d.Rotated {
		title = "rotated.title"
	}
	return c.render(w, r, rq, http.StatusOK, "webhook_created", title, "webhooks", d)
}
