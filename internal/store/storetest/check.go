package storetest

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// checker holds the few assertions the suite needs, on the standard testing
// package only, so that the suite adds no dependency to the module (testify's
// own dependencies are not in go.sum). must stops the test at the first
// failure; expect reports and goes on, and is the one to use in goroutines
// other than the test's, where FailNow is not allowed.
type checker struct{ fatal bool }

var (
	must   = checker{fatal: true}
	expect = checker{fatal: false}
)

func (c checker) fail(t testing.TB, msgAndArgs []any, format string, args ...any) bool {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if m := message(msgAndArgs); m != "" {
		msg = m + ": " + msg
	}
	if c.fatal {
		t.Fatal(msg)
	}
	t.Error(msg)
	return false
}

// message formats testify-style trailing arguments: a format and its
// arguments, or values to print.
func message(msgAndArgs []any) string {
	if len(msgAndArgs) == 0 {
		return ""
	}
	if f, ok := msgAndArgs[0].(string); ok && len(msgAndArgs) > 1 {
		return fmt.Sprintf(f, msgAndArgs[1:]...)
	}
	return fmt.Sprint(msgAndArgs...)
}

func (c checker) NoError(t testing.TB, err error, msgAndArgs ...any) bool {
	t.Helper()
	if err != nil {
		return c.fail(t, msgAndArgs, "unexpected error: %v", err)
	}
	return true
}

func (c checker) Error(t testing.TB, err error, msgAndArgs ...any) bool {
	t.Helper()
	if err == nil {
		return c.fail(t, msgAndArgs, "expected an error, got nil")
	}
	return true
}

// Equal compares with reflect.DeepEqual and reports the first difference.
func (c checker) Equal(t testing.TB, want, got any, msgAndArgs ...any) bool {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		return c.fail(t, msgAndArgs, "not equal:\n%s", diff(want, got))
	}
	return true
}

func (c checker) True(t testing.TB, v bool, msgAndArgs ...any) bool {
	t.Helper()
	if !v {
		return c.fail(t, msgAndArgs, "expected true")
	}
	return true
}

func (c checker) False(t testing.TB, v bool, msgAndArgs ...any) bool {
	t.Helper()
	if v {
		return c.fail(t, msgAndArgs, "expected false")
	}
	return true
}

func (c checker) Len(t testing.TB, v any, n int, msgAndArgs ...any) bool {
	t.Helper()
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Map, reflect.Array, reflect.String, reflect.Chan:
	default:
		return c.fail(t, msgAndArgs, "Len of a %T", v)
	}
	if rv.Len() != n {
		return c.fail(t, msgAndArgs, "want length %d, got %d: %s", n, rv.Len(), show(rv))
	}
	return true
}

// Empty accepts a nil or zero value, or a zero-length slice, map or string.
func (c checker) Empty(t testing.TB, v any, msgAndArgs ...any) bool {
	t.Helper()
	if !isEmpty(v) {
		return c.fail(t, msgAndArgs, "expected empty, got %s", show(reflect.ValueOf(v)))
	}
	return true
}

func (c checker) NotEmpty(t testing.TB, v any, msgAndArgs ...any) bool {
	t.Helper()
	if isEmpty(v) {
		return c.fail(t, msgAndArgs, "expected a value, got empty %T", v)
	}
	return true
}

func isEmpty(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Map, reflect.Array, reflect.String, reflect.Chan:
		return rv.Len() == 0
	}
	return rv.IsZero()
}

// Zero is Empty for numbers.
func (c checker) Zero(t testing.TB, v any, msgAndArgs ...any) bool {
	t.Helper()
	if v != nil && !reflect.ValueOf(v).IsZero() {
		return c.fail(t, msgAndArgs, "expected zero, got %v", v)
	}
	return true
}

func (c checker) Nil(t testing.TB, v any, msgAndArgs ...any) bool {
	t.Helper()
	if !isNil(v) {
		return c.fail(t, msgAndArgs, "expected nil, got %s", show(reflect.ValueOf(v)))
	}
	return true
}

func (c checker) NotNil(t testing.TB, v any, msgAndArgs ...any) bool {
	t.Helper()
	if isNil(v) {
		return c.fail(t, msgAndArgs, "expected non-nil %T", v)
	}
	return true
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface, reflect.Func, reflect.Chan:
		return rv.IsNil()
	}
	return false
}

// Contains checks a substring, or an element of a slice.
func (c checker) Contains(t testing.TB, container, elem any, msgAndArgs ...any) bool {
	t.Helper()
	if s, ok := container.(string); ok {
		if !strings.Contains(s, fmt.Sprint(elem)) {
			return c.fail(t, msgAndArgs, "%q does not contain %q", s, elem)
		}
		return true
	}
	rv := reflect.ValueOf(container)
	if rv.Kind() != reflect.Slice {
		return c.fail(t, msgAndArgs, "Contains on a %T", container)
	}
	for i := 0; i < rv.Len(); i++ {
		if reflect.DeepEqual(rv.Index(i).Interface(), elem) {
			return true
		}
	}
	return c.fail(t, msgAndArgs, "%s does not contain %v", show(rv), elem)
}

// ElementsMatch compares two string lists ignoring order.
func (c checker) ElementsMatch(t testing.TB, want, got []string, msgAndArgs ...any) bool {
	t.Helper()
	w, g := append([]string(nil), want...), append([]string(nil), got...)
	sort.Strings(w)
	sort.Strings(g)
	return c.Equal(t, w, g, msgAndArgs...)
}

func (c checker) LessOrEqual(t testing.TB, a, b int, msgAndArgs ...any) bool {
	t.Helper()
	if a > b {
		return c.fail(t, msgAndArgs, "%d is more than %d", a, b)
	}
	return true
}

// diff describes the first place where want and got differ.
func diff(want, got any) string {
	var b strings.Builder
	firstDiff(&b, "", reflect.ValueOf(want), reflect.ValueOf(got))
	if b.Len() == 0 {
		return fmt.Sprintf("want %s\n got %s", show(reflect.ValueOf(want)), show(reflect.ValueOf(got)))
	}
	return b.String()
}

var timeType = reflect.TypeFor[time.Time]()

func firstDiff(b *strings.Builder, path string, w, g reflect.Value) bool {
	report := func(ws, gs string) bool {
		fmt.Fprintf(b, "at %s:\n  want %s\n   got %s", orRoot(path), ws, gs)
		return true
	}
	if !w.IsValid() || !g.IsValid() {
		if w.IsValid() != g.IsValid() {
			return report(show(w), show(g))
		}
		return false
	}
	if w.Type() != g.Type() {
		return report(w.Type().String(), g.Type().String())
	}
	if w.Type() == timeType {
		if !reflect.DeepEqual(w.Interface(), g.Interface()) {
			return report(show(w), show(g))
		}
		return false
	}
	switch w.Kind() {
	case reflect.Pointer, reflect.Interface:
		if w.IsNil() || g.IsNil() {
			if w.IsNil() != g.IsNil() {
				return report(show(w), show(g))
			}
			return false
		}
		return firstDiff(b, path, w.Elem(), g.Elem())
	case reflect.Struct:
		for i := 0; i < w.NumField(); i++ {
			if !w.Type().Field(i).IsExported() {
				continue
			}
			if firstDiff(b, path+"."+w.Type().Field(i).Name, w.Field(i), g.Field(i)) {
				return true
			}
		}
		return false
	case reflect.Slice, reflect.Array:
		if w.Kind() == reflect.Slice && w.IsNil() != g.IsNil() {
			return report(show(w), show(g))
		}
		for i := 0; i < min(w.Len(), g.Len()); i++ {
			if firstDiff(b, fmt.Sprintf("%s[%d]", path, i), w.Index(i), g.Index(i)) {
				return true
			}
		}
		if w.Len() != g.Len() {
			return report(show(w), show(g))
		}
		return false
	case reflect.Map:
		if w.IsNil() != g.IsNil() || w.Len() != g.Len() {
			return report(show(w), show(g))
		}
		for _, k := range w.MapKeys() {
			gv := g.MapIndex(k)
			if !gv.IsValid() {
				return report(show(w), show(g))
			}
			if firstDiff(b, fmt.Sprintf("%s[%v]", path, k), w.MapIndex(k), gv) {
				return true
			}
		}
		return false
	}
	if w.CanInterface() && !reflect.DeepEqual(w.Interface(), g.Interface()) {
		return report(show(w), show(g))
	}
	return false
}

func orRoot(path string) string {
	if path == "" {
		return "top level"
	}
	return path
}

// show prints a value with pointers followed, so that a failure shows data
// rather than addresses.
func show(v reflect.Value) string {
	if !v.IsValid() {
		return "nil"
	}
	if v.Type() == timeType {
		return v.Interface().(time.Time).String()
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return "nil"
		}
		return "&" + show(v.Elem())
	case reflect.Struct:
		var parts []string
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				parts = append(parts, v.Type().Field(i).Name+":"+show(v.Field(i)))
			}
		}
		return "{" + strings.Join(parts, " ") + "}"
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return "nil"
		}
		if v.Type().Elem().Kind() == reflect.Uint8 && v.Kind() == reflect.Slice {
			return fmt.Sprintf("%q", v.Bytes())
		}
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = show(v.Index(i))
		}
		return "[" + strings.Join(parts, " ") + "]"
	case reflect.String:
		return fmt.Sprintf("%q", v.String())
	}
	if v.CanInterface() {
		return fmt.Sprintf("%v", v.Interface())
	}
	return v.String()
}
