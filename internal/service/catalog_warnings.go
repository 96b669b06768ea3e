package service

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/catalog"
	"github.com/herald-hq/herald/internal/store"
)

// catalogCategories maps each catalog event type to its category.
var catalogCategories = func() map[string]string {
	m := map[string]string{}
	for _, et := range catalog.EventTypes() {
		m[et.Name] = et.Category
	}
	return m
}()

// eventTypeWarnings warns about what a webhook's event types probably got
// wrong, without refusing it (custom types are accepted on ingest): a type
// that is neither in the catalog nor a wildcard (a typo like "image.psuh"
// matches nothing Harbor sends), and catalog types whose category is not the
// webhook's.
func eventTypeWarnings(w *herald.Webhook) []string {
	var v []string
	var mismatched []string
	for _, t := range w.EventTypes {
		if t == "*" || strings.HasSuffix(t, "*") {
			continue
		}
		cat, known := catalogCategories[t]
		if !known {
			msg := fmt.Sprintf("event type %q is not in the catalog (GET /api/v1/event-types, `herald event-types`): it matches only events sent with exactly this type", t)
			if s := nearestEventType(t); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			v = append(v, msg)
			continue
		}
		if w.Category != "" && cat != w.Category {
			mismatched = append(mismatched, strconv.Quote(t)+" is "+cat)
		}
	}
	if len(mismatched) > 0 {
		v = append(v, fmt.Sprintf("category is %q but in the catalog %s: category only labels the webhook (it filters nothing), set it to what the webhook receives",
			w.Category, strings.Join(mismatched, ", ")))
	}
	return v
}

// nearestEventType returns the catalog type within two edits of t (the
// closest, the first by name on a tie), or "".
func nearestEventType(t string) string {
	best, bestD := "", 3
	names := make([]string, 0, len(catalogCategories))
	for n := range catalogCategories {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if d := editDistance(t, n, bestD); d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance of a and b (a
// transposition counts as one edit), or limit when it is limit or more.
func editDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d >= limit || -d >= limit {
		return limit
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], limit)
}

// DisabledWebhook is a webhook a settings change switched off.
type DisabledWebhook struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Project string `json:"project"`
	URL     string `json:"url"`
	Reason  string `json:"reason"`
}

// ReasonHTTPSOnly is the disabled_reason of the http webhooks switched off
// when https_only was turned on.
const ReasonHTTPSOnly = "https_only is on"

// disableHTTPWebhooks switches off every enabled webhook whose URL is plain
// http, with ReasonHTTPSOnly: once https_only is on no http URL may be saved,
// and none is delivered to either. Their pending deliveries wait as for any
// disabled webhook; enabling one again needs an https URL.
func (s *Service) disableHTTPWebhooks(ctx context.Context, p *Principal) ([]DisabledWebhook, error) {
	ws, err := s.o.Store.ListWebhooks(ctx, store.WebhookFilter{EnabledOnly: true})
	if err != nil {
		return nil, err
	}
	out := []DisabledWebhook{}
	for _, w := range ws {
		u, err := url.Parse(w.URL)
		if err != nil || !strings.EqualFold(u.Scheme, "http") || !w.Enabled {
			continue
		}
		if err := s.o.Store.DisableWebhook(ctx, w.ID, ReasonHTTPSOnly, s.now()); err != nil {
			return out, err
		}
		s.changed(w.ID)
		s.audit(ctx, p, "webhook.disable", w.ID, w.Project, map[string]string{"reason": ReasonHTTPSOnly, "url": w.URL})
		out = append(out, DisabledWebhook{ID: w.ID, Name: w.Name, Project: w.Project, URL: w.URL, Reason: ReasonHTTPSOnly})
	}
	return out, nil
}
