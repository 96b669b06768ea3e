package sender

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/herald-hq/herald"
)

// Chat destinations (formats slack, discord, teams, feishu, lark, dingtalk,
// wecom) get two things plain webhooks do not:
//
//   - Signing at send time: with auth type sign, a Feishu/Lark body gets
//     "timestamp" (unix seconds, a string) and "sign" (base64 of
//     HMAC-SHA256 keyed with timestamp+"\n"+secret over nothing); a DingTalk
//     URL gets timestamp (unix milliseconds) and sign (base64 of HMAC-SHA256
//     keyed with the secret over timestamp+"\n"+secret, URL-encoded). The
//     timestamp is the attempt's own, so retries are signed afresh.
//   - Answers read for what they mean: Feishu, DingTalk and WeCom answer
//     HTTP 200 with an error code in the body. A non-zero code fails the
//     attempt with the platform's code and message in Err: Retry for the
//     platform's rate-limit and busy codes (with a RetryAfter), Fail for
//     everything else (bad signature, bad token, blocked keyword, IP not
//     allowed), with a hint on what to fix. Discord's 429 body carries
//     retry_after (seconds, a float); Slack, Discord and Teams error bodies
//     are quoted in Err.
//
// The Standard Webhooks headers are sent to chat platforms too (they ignore
// them) unless the webhook's StandardHeaders is off.

// chatRetry is how long to wait after a platform's rate-limit code when it
// names no time: DingTalk throttles a robot for 10 minutes once it sent more
// than 20 messages in a minute; WeCom's limit is 20 a minute; Feishu's 100 a
// minute and 5 a second.
var chatRetry = map[string]time.Duration{
	herald.FormatDingTalk: 10 * time.Minute,
	herald.FormatWeCom:    time.Minute,
	herald.FormatFeishu:   10 * time.Second,
	herald.FormatLark:     10 * time.Second,
}

func isChat(format string) bool {
	switch format {
	case herald.FormatSlack, herald.FormatDiscord, herald.FormatTeams, herald.FormatFeishu,
		herald.FormatLark, herald.FormatDingTalk, herald.FormatWeCom:
		return true
	}
	return false
}

// sendChat sends to a chat destination; ok is false for other formats, which
// Send handles itself. The inner Send sees the webhook without its format
// and without auth type sign (a signing secret is not an HTTP credential).
func (s *Sender) sendChat(ctx context.Context, w *herald.Webhook, req Request) (res Result, ok bool) {
	if !isChat(w.Format) {
		return Result{}, false
	}
	plain := *w
	plain.Format = ""
	if w.Auth.Type == herald.AuthSign {
		plain.Auth = herald.Auth{Type: herald.AuthNone}
		var err error
		plain.URL, req.Body, err = signChat(w.Format, w.URL, req.Body, w.Auth.Secret.Reveal(), time.Now())
		if err != nil {
			return Result{Err: err.Error(), Outcome: Fail}, true
		}
	}
	res = s.Send(ctx, &plain, req)
	if w.Auth.Type == herald.AuthSign {
		res.RequestBody = redactBodySign(res.RequestBody)
	}
	classifyChat(w.Format, &res)
	return res, true
}

// redactBodySign replaces the "sign" signChat put at the head of a signed
// Feishu/Lark body with "[redacted]" for the attempt record; other bodies
// are returned as they are.
func redactBodySign(body string) string {
	const key = `,"sign":"`
	i := strings.Index(body, key)
	if !strings.HasPrefix(body, `{"timestamp":`) || i < 0 {
		return body
	}
	start := i + len(key)
	end := strings.IndexByte(body[start:], '"')
	if end < 0 {
		return body
	}
	return body[:start] + redacted + body[start+end:]
}

// signChat returns the URL and body of a signed attempt at now.
func signChat(format, rawURL string, body []byte, secret string, now time.Time) (string, []byte, error) {
	if secret == "" {
		return "", nil, errors.New("auth type sign has no secret: set auth.secret to the robot's signing secret")
	}
	switch format {
	case herald.FormatFeishu, herald.FormatLark:
		ts, sign := FeishuSign(secret, now)
		b := bytes.TrimLeft(body, " \t\r\n")
		if len(b) == 0 || b[0] != '{' {
			return "", nil, errors.New("feishu body is not a JSON object: cannot sign it")
		}
		rest := bytes.TrimLeft(b[1:], " \t\r\n")
		head := `{"timestamp":` + strconv.Quote(ts) + `,"sign":` + strconv.Quote(sign)
		if len(rest) > 0 && rest[0] != '}' {
			head += ","
		}
		return rawURL, append([]byte(head), rest...), nil
	case herald.FormatDingTalk:
		ts, sign := DingTalkSign(secret, now)
		u, err := url.Parse(rawURL)
		if err != nil {
			return "", nil, fmt.Errorf("invalid url: %w", errors.Unwrap(err))
		}
		q := u.Query()
		q.Set("timestamp", ts)
		q.Set("sign", sign) // Encode URL-encodes the base64 signature
		u.RawQuery = q.Encode()
		return u.String(), body, nil
	}
	return "", nil, fmt.Errorf("format %s is not signed", format)
}

// FeishuSign returns the timestamp (unix seconds) and sign of a Feishu/Lark
// custom bot message sent at now.
func FeishuSign(secret string, now time.Time) (timestamp, sign string) {
	timestamp = strconv.FormatInt(now.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(timestamp+"\n"+secret))
	return timestamp, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// DingTalkSign returns the timestamp (unix milliseconds) and sign (base64,
// not yet URL-encoded) of a DingTalk robot message sent at now.
func DingTalkSign(secret string, now time.Time) (timestamp, sign string) {
	timestamp = strconv.FormatInt(now.UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "\n" + secret))
	return timestamp, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// chatAnswer is the error part of the platforms' JSON answers.
type chatAnswer struct {
	ErrCode    *int64   `json:"errcode"`    // DingTalk, WeCom
	ErrMsg     string   `json:"errmsg"`     // DingTalk, WeCom
	Code       *int64   `json:"code"`       // Feishu, Discord
	Msg        string   `json:"msg"`        // Feishu
	Message    string   `json:"message"`    // Discord
	StatusCode *int64   `json:"StatusCode"` // Feishu's older answer
	StatusMsg  string   `json:"StatusMessage"`
	RetryAfter *float64 `json:"retry_after"` // Discord 429, seconds
}

func classifyChat(format string, res *Result) {
	if res.StatusCode == 0 {
		return // no answer: the transport error stands
	}
	var a chatAnswer
	_ = json.Unmarshal([]byte(res.ResponseBody), &a)
	name := chatName(format)
	if res.StatusCode < 200 || res.StatusCode > 299 {
		if res.StatusCode == http.StatusTooManyRequests {
			if a.RetryAfter != nil && *a.RetryAfter > 0 && !math.IsInf(*a.RetryAfter, 0) {
				d := time.Duration(math.Min(*a.RetryAfter, 24*3600) * float64(time.Second))
				res.RetryAfter = max(res.RetryAfter, d)
			}
			if res.RetryAfter == 0 {
				res.RetryAfter = chatRetry[format]
			}
		}
		if res.Err == "" {
			res.Err = fmt.Sprintf("%s answered %d: %s", name, res.StatusCode, answerText(res.ResponseBody))
		}
		// Slack's documented permanent answers: the URL or its app is gone.
		if format == herald.FormatSlack {
			switch strings.TrimSpace(res.ResponseBody) {
			case "invalid_token", "no_service", "no_team", "team_disabled", "channel_not_found", "action_prohibited", "posting_to_general_channel_denied":
				res.Outcome = Fail
				res.Err += " (the Slack webhook URL was revoked or its channel is gone: create a new incoming webhook)"
			}
		}
		// Discord's "Unknown Webhook": the webhook was deleted in Discord.
		if format == herald.FormatDiscord && res.StatusCode == http.StatusNotFound && a.Code != nil && *a.Code == 10015 {
			res.Outcome = Fail
			res.Err += " (the webhook was deleted in Discord: create a new one and update the URL)"
		}
		return
	}
	var (
		code int64
		msg  string
		set  bool
	)
	switch format {
	case herald.FormatDingTalk, herald.FormatWeCom:
		if a.ErrCode != nil {
			code, msg, set = *a.ErrCode, a.ErrMsg, true
		}
	case herald.FormatFeishu, herald.FormatLark:
		if a.Code != nil {
			code, msg, set = *a.Code, a.Msg, true
		} else if a.StatusCode != nil {
			code, msg, set = *a.StatusCode, a.StatusMsg, true
		}
	}
	if !set || code == 0 {
		return
	}
	retry, hint := chatCode(format, code, msg)
	res.Err = fmt.Sprintf("%s error %d: %s", name, code, msg)
	if hint != "" {
		res.Err += " (" + hint + ")"
	}
	if retry {
		res.Outcome = Retry
		res.RetryAfter = chatRetry[format]
	} else {
		res.Outcome = Fail
	}
}

// chatCode says whether a platform's error code is worth retrying, and what
// to fix when it is not.
func chatCode(format string, code int64, msg string) (retry bool, hint string) {
	lower := strings.ToLower(msg)
	switch format {
	case herald.FormatDingTalk:
		switch code {
		case 130101, 410100: // send too fast (20 a minute per robot)
			return true, "rate limited: DingTalk allows 20 messages a minute per robot"
		case -1: // system busy
			return true, ""
		}
		switch {
		case strings.Contains(lower, "sign"):
			return false, "check auth.secret against the robot's signing secret, and this server's clock"
		case strings.Contains(lower, "keyword"):
			return false, `the robot only accepts messages with its custom keywords: add "Herald" as a keyword`
		case strings.Contains(lower, "whitelist") || strings.Contains(lower, " ip "):
			return false, "the robot's IP allow list does not include this server's address"
		case strings.Contains(lower, "token"):
			return false, "the access_token in the URL is wrong or the robot was removed"
		}
		return false, ""
	case herald.FormatWeCom:
		switch code {
		case 45009: // api freq out of limit
			return true, "rate limited: WeCom allows 20 messages a minute per robot"
		case -1:
			return true, ""
		case 93000:
			return false, "the key in the URL is wrong or the robot was removed"
		case 45002:
			return false, "message too long"
		}
		return false, ""
	case herald.FormatFeishu, herald.FormatLark:
		switch code {
		case 11232: // frequency limited
			return true, "rate limited: the bot allows 100 messages a minute, 5 a second"
		case 19021:
			return false, "check auth.secret against the bot's signing secret, and this server's clock"
		case 19022:
			return false, "the bot's IP allow list does not include this server's address"
		case 19024:
			return false, `the bot only accepts messages with its keywords: add "Herald" as a keyword`
		case 19001:
			return false, "the webhook URL's token is wrong or the bot was removed"
		}
		if strings.Contains(lower, "sign") {
			return false, "check auth.secret against the bot's signing secret"
		}
		return false, ""
	}
	return false, ""
}

func chatName(format string) string {
	switch format {
	case herald.FormatSlack:
		return "Slack"
	case herald.FormatDiscord:
		return "Discord"
	case herald.FormatTeams:
		return "Teams"
	case herald.FormatFeishu:
		return "Feishu"
	case herald.FormatLark:
		return "Lark"
	case herald.FormatDingTalk:
		return "DingTalk"
	case herald.FormatWeCom:
		return "WeCom"
	}
	return format
}

// answerText is a response body shortened for an error message.
func answerText(body string) string {
	body = strings.TrimSpace(body)
	if body == "" {
		return "(empty body)"
	}
	if r := []rune(body); len(r) > 200 {
		return string(r[:200]) + "…"
	}
	return body
}
