package web

import "github.com/herald-hq/herald/internal/format"

// SuggestFormat is the chat format the form's URL belongs to (hooks.slack.com:
// slack, ...) when another format is chosen, else "". The page shows it as a
// hint under the format picker; app.js updates the hint as the URL is typed.
func (f *webhookForm) SuggestFormat() string {
	s := format.SuggestFormat(f.URL)
	if s == f.Format {
		return ""
	}
	return s
}
