package service

import (
	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/format"
)

// chatDefaults gives a chat webhook without a rate_limit (0) the platform's
// documented per-robot limit, in requests per second (rate_limit's unit).
// Per-minute limits do not fit a whole number per second: DingTalk and WeCom
// (20 a minute) and Feishu/Lark (100 a minute, 5 a second) get 1 a second,
// the lowest non-zero rate; the platforms' rate-limit answers are retried
// after their throttle time (see sender/chat.go). A chat webhook cannot be
// unlimited: 0 always means the platform default.
func chatDefaults(w *herald.Webhook) {
	if w.RateLimit == 0 && format.IsChat(w.Format) {
		w.RateLimit = format.ChatRateLimit(w.Format)
	}
}
