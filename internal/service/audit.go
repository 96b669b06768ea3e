package service

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

// Actor names p in the audit log: "token:<id> (<name>)".
func (p *Principal) Actor() string {
	if p == nil || p.Token == nil {
		return "herald"
	}
	return p.Token.ID + " (" + p.Token.Name + ")"
}

// audit records a configuration change. details is marshalled to JSON;
// herald.Secret fields marshal as "********", so no secret reaches the log.
// A failure to record is logged, not returned: the change itself succeeded.
func (s *Service) audit(ctx context.Context, p *Principal, action, object, project string, details any) {
	var d string
	if details != nil {
		b, err := json.Marshal(details)
		if err == nil {
			d = string(b)
		}
	}
	e := &herald.AuditEntry{At: s.now(), Actor: p.Actor(), Action: action, Object: object, Project: project, Details: d}
	if err := s.o.Store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		slog.Default().Error("record audit entry", "action", action, "object", object, "err", err)
	}
}

// Audit lists the audit log (platform-admin), newest first.
func (s *Service) Audit(ctx context.Context, p *Principal, f store.AuditFilter) ([]*herald.AuditEntry, string, error) {
	if err := p.RequireAdmin(); err != nil {
		return nil, "", err
	}
	es, next, err := s.o.Store.ListAudit(ctx, f)
	if es == nil && err == nil {
		es = []*herald.AuditEntry{}
	}
	return es, next, err
}
