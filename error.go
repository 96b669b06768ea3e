package herald

import (
	"errors"
	"fmt"
)

// Error codes. The API and the console map them to HTTP status in one place.
const (
	EInvalid       = "invalid"       // 400: bad input, Field names the culprit
	EUnauthorized  = "unauthorized"  // 401
	EForbidden     = "forbidden"     // 403
	ENotFound      = "not_found"     // 404
	EConflict      = "conflict"      // 409
	ETooLarge      = "too_large"     // 413
	EUnprocessable = "unprocessable" // 422: e.g. the ownership challenge failed
	ERateLimited   = "rate_limited"  // 429
	EUnavailable   = "unavailable"   // 503
	EInternal      = "internal"      // 500
)

// Error is an application error with a machine code, a human message and,
// for invalid input, the field it concerns.
//
// Key and Args let the console show the message in the user's language:
// Key names it in the console's catalogs (as "err.<Key>", e.g. "url.scheme";
// never with a field's index, which goes into Args), Args are its named
// arguments (placeholders "{name}" in the catalog text). Message stays the
// English text the API returns; the API never shows Key or Args. An error
// without a Key is shown with its Message everywhere.
type Error struct {
	Code    string
	Message string
	Field   string
	Key     string            `json:"-"`
	Args    map[string]string `json:"-"`
}

// Args are the named arguments of an error's Key.
type Args = map[string]string

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (field %s)", e.Code, e.Message, e.Field)
	}
	return e.Code + ": " + e.Message
}

// Errorf returns an *Error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EInvalid error naming field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: EInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// InvalidKey is Invalid with a catalog key and its named arguments.
func InvalidKey(field, key string, args Args, format string, fmtArgs ...any) *Error {
	return &Error{Code: EInvalid, Field: field, Key: key, Args: args, Message: fmt.Sprintf(format, fmtArgs...)}
}

// ErrorfKey is Errorf with a catalog key and its named arguments.
func ErrorfKey(code, key string, args Args, format string, fmtArgs ...any) *Error {
	return &Error{Code: code, Key: key, Args: args, Message: fmt.Sprintf(format, fmtArgs...)}
}

// WithKey sets the catalog key and arguments of e and returns e.
func (e *Error) WithKey(key string, args Args) *Error {
	e.Key, e.Args = key, args
	return e
}

// NotFound returns an ENotFound error for a kind of object ("webhook").
func NotFound(kind string) *Error {
	return &Error{Code: ENotFound, Message: kind + " not found", Key: "not_found", Args: Args{"kind": kind}}
}

// ErrorCode returns the code of err, EInternal for anything that is not an *Error.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EInternal
}

// ErrorMessage returns the message of an *Error, "internal error" otherwise,
// so that internal details never reach a client.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorField returns the field of an *Error, if any.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// ErrorKey returns the catalog key and arguments of an *Error, if any.
func ErrorKey(err error) (string, Args) {
	var e *Error
	if errors.As(err, &e) {
		return e.Key, e.Args
	}
	return "", nil
}
