package client

import (
	"context"
	"net/http"

	"github.com/herald-hq/herald"
)

// TokenInput is the body of CreateToken. Role is one of herald.RolePlatformAdmin,
// ...; Projects limits project-admin, viewer and publisher tokens.
type TokenInput struct {
	Name     string   `json:"name"`
	Role     string   `json:"role"`
	Projects []string `json:"projects"`
}

// CreatedToken is the answer to CreateToken. Secret is the bearer token,
// returned this once: Herald stores only its hash.
type CreatedToken struct {
	herald.Token
	Secret string `json:"token"`
}

// CreateToken creates an API token.
func (c *Client) CreateToken(ctx context.Context, in TokenInput) (*CreatedToken, error) {
	if in.Projects == nil {
		in.Projects = []string{}
	}
	var out CreatedToken
	if err := c.do(ctx, call{method: http.MethodPost, path: "/tokens", body: in, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListTokens returns the API tokens (never their secrets).
func (c *Client) ListTokens(ctx context.Context) ([]herald.Token, error) {
	var out list[herald.Token]
	if err := c.do(ctx, call{method: http.MethodGet, path: "/tokens", out: &out}); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// DeleteToken revokes a token.
func (c *Client) DeleteToken(ctx context.Context, id string) error {
	if err := requireID("token", id); err != nil {
		return err
	}
	return c.do(ctx, call{method: http.MethodDelete, path: idPath("/tokens", id)})
}
