package web

import (
	"regexp"
	"strings"

	"github.com/herald-hq/herald"
)

// Errors from the service layer carry an English Message (what the API
// returns) and, for those a console user can cause, a Key and named Args
// (see herald.Error). The console shows the catalog text "err.<Key>" with
// the Args in place of its "{name}" placeholders, and the Message when the
// catalog has no text for the key. The err.* texts use named placeholders,
// not the fmt verbs of the other texts, because the arguments are named:
// a translation may use them in any order, or leave out one such as the
// row "index" that the field already shows.

// errPrefix is the catalog prefix of error keys.
const errPrefix = "err."

// placeholderRE finds "{name}" in an err.* text.
var placeholderRE = regexp.MustCompile(`\{([a-z_]+)\}`)

// translatedArgs are the arguments whose values are words the catalogs
// translate themselves: an object kind ("webhook"), a role, a challenge
// failure reason (as a word, and as a plain sentence: "why"). The value v of argument a is shown as the text of
// translatedArgs[a]+v when the catalog has it, as v otherwise.
var translatedArgs = map[string]string{
	"kind":   "kind.",
	"role":   "role.",
	"reason": "challenge_reason.",
	"why":    "challenge_why.",
}

// errText is err's message in the catalog's language.
func (c *catalog) errText(err error) string {
	key, args := herald.ErrorKey(err)
	if key == "" {
		return herald.ErrorMessage(err)
	}
	text, ok := c.texts[errPrefix+key]
	if !ok {
		return herald.ErrorMessage(err)
	}
	return placeholderRE.ReplaceAllStringFunc(text, func(ph string) string {
		name := ph[1 : len(ph)-1]
		v, ok := args[name]
		if !ok {
			return ph
		}
		if prefix, ok := translatedArgs[name]; ok {
			if t, ok := c.texts[prefix+v]; ok {
				return t
			}
		}
		return v
	})
}

// errDetail is the technical detail of err that its catalog text leaves
// out: the "detail" argument when the text has no {detail} placeholder
// (the ownership challenge's failure says what went wrong in plain words
// and keeps the sender's English text for the person who wants it). ""
// when the text shows the detail itself or err has none.
func (c *catalog) errDetail(err error) string {
	key, args := herald.ErrorKey(err)
	text, ok := c.texts[errPrefix+key]
	if key == "" || !ok || strings.Contains(text, "{detail}") {
		return ""
	}
	return args["detail"]
}

// E is err's message in the caller's language (errText).
func (rq *request) E(err error) string { return rq.tr.errText(err) }
