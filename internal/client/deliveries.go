package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/herald-hq/herald"
)

// DeliveryFilter selects deliveries for ListDeliveries. The zero value lists
// the newest page of everything the token may see.
type DeliveryFilter struct {
	WebhookID string
	State     herald.State
	EventType string
	EventID   string
	// Since and Until bound the creation time; zero means unbounded.
	Since time.Time
	Until time.Time
	// Cursor is the NextCursor of the previous page; "" for the first.
	Cursor string
	// Limit is the page size. Defaults to the server's (50).
	Limit int
}

func (f DeliveryFilter) query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("webhook", f.WebhookID)
	set("state", string(f.State))
	set("event_type", f.EventType)
	set("event", f.EventID)
	if !f.Since.IsZero() {
		q.Set("since", formatTime(f.Since))
	}
	if !f.Until.IsZero() {
		q.Set("until", formatTime(f.Until))
	}
	set("cursor", f.Cursor)
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return q
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// DeliveryPage is one page of the delivery log, newest first.
type DeliveryPage struct {
	Data []herald.Delivery `json:"data"`
	// NextCursor fetches the next page; "" on the last one.
	NextCursor string `json:"next_cursor,omitempty"`
	// Total is how many deliveries match the filter, counted up to 10000;
	// TotalCapped says there are more.
	Total       int  `json:"total"`
	TotalCapped bool `json:"total_capped"`
}

// DeliveryDetail is a delivery with its attempts, oldest first. The API sends
// the count under "attempts" (herald.Delivery) and the records under
// "attempt_log".
type DeliveryDetail struct {
	herald.Delivery
	AttemptList []herald.Attempt `json:"attempt_log"`
}

// ListDeliveries returns one page of the delivery log.
func (c *Client) ListDeliveries(ctx context.Context, f DeliveryFilter) (*DeliveryPage, error) {
	var out DeliveryPage
	if err := c.do(ctx, call{method: http.MethodGet, path: "/deliveries", query: f.query(), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// AllDeliveries follows the cursor from f.Cursor to the last page and returns
// every delivery. max > 0 stops after that many.
func (c *Client) AllDeliveries(ctx context.Context, f DeliveryFilter, max int) ([]herald.Delivery, error) {
	var all []herald.Delivery
	seen := map[string]bool{}
	for {
		page, err := c.ListDeliveries(ctx, f)
		if err != nil {
			return all, err
		}
		all = append(all, page.Data...)
		if max > 0 && len(all) >= max {
			return all[:max], nil
		}
		if page.NextCursor == "" || len(page.Data) == 0 {
			return all, nil
		}
		if seen[page.NextCursor] {
			return all, herald.Errorf(herald.EInternal, "the server returned cursor %q twice; stopping", page.NextCursor)
		}
		seen[page.NextCursor] = true
		f.Cursor = page.NextCursor
	}
}

// GetDelivery returns a delivery and its attempts.
func (c *Client) GetDelivery(ctx context.Context, id string) (*DeliveryDetail, error) {
	if err := requireID("delivery", id); err != nil {
		return nil, err
	}
	var out DeliveryDetail
	if err := c.do(ctx, call{method: http.MethodGet, path: idPath("/deliveries", id), out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// RetryDelivery puts a finished delivery (failed, succeeded, cancelled, held)
// back in the queue, due now, and returns it.
func (c *Client) RetryDelivery(ctx context.Context, id string) (*herald.Delivery, error) {
	if err := requireID("delivery", id); err != nil {
		return nil, err
	}
	var out herald.Delivery
	if err := c.do(ctx, call{method: http.MethodPost, path: idPath("/deliveries", id) + "/retry", out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}
