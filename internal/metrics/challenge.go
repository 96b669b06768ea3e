package metrics

import (
	"context"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/sender"
)

// Challenger is what runs ownership challenges (sender.Sender does).
type Challenger interface {
	Challenge(ctx context.Context, w *herald.Webhook) sender.ChallengeResult
}

// WrapChallenger counts every challenge c runs in herald_challenges_total.
func (m *Metrics) WrapChallenger(c Challenger) Challenger {
	return challenger{c: c, m: m}
}

type challenger struct {
	c Challenger
	m *Metrics
}

func (c challenger) Challenge(ctx context.Context, w *herald.Webhook) sender.ChallengeResult {
	r := c.c.Challenge(ctx, w)
	c.m.challenge(r)
	return r
}
