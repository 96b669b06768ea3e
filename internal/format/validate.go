package format

import (
	"slices"
	"strconv"
	"strings"

	"github.com/herald-hq/herald"
)

// Validate checks the payload settings of w before it is saved: a known
// format ("" means standard), a language with a message catalog ("" means
// en), a content_type that is a media type, and for format template a
// template that parses and renders the sample event within the limits (see
// ValidateTemplate). Other formats ignore template and content_type, so they
// are kept but not checked further than that. The error is a *herald.Error
// with code invalid naming the field.
func Validate(w *herald.Webhook) error {
	if w.Format != "" && !slices.Contains(Formats(), w.Format) {
		return herald.InvalidKey("format", "format.invalid", herald.Args{"value": strconv.Quote(w.Format), "list": strings.Join(Formats(), ", ")}, "format %q is not %s", w.Format, orList(Formats()))
	}
	if !ValidLanguage(w.Language) {
		return herald.InvalidKey("language", "language.invalid", herald.Args{"value": strconv.Quote(w.Language), "list": strings.Join(Languages(), ", ")}, "language %q is not %s", w.Language, orList(Languages()))
	}
	if err := validateContentType(w.ContentType); err != nil {
		return err
	}
	if err := validateChatAuth(w); err != nil {
		return err
	}
	if w.Format == herald.FormatTemplate {
		return ValidateTemplate(w.Template, w.ContentType)
	}
	if len(w.Template) > MaxTemplateSize {
		return herald.InvalidKey("template", "template.too_long", herald.Args{"max": strconv.Itoa(MaxTemplateSize >> 10)}, "template is longer than %d KiB", MaxTemplateSize>>10)
	}
	return nil
}

// orList writes "a, b or c".
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}
