package herald

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// Durations that do not fit a time.Duration are refused, naming the field,
// instead of wrapping around (18446744074 seconds used to become 290ms).
func TestDurationRange(t *testing.T) {
	t.Parallel()
	var v struct {
		Timeout Duration `json:"timeout"`
	}
	for in, want := range map[string]time.Duration{
		`"15s"`: 15 * time.Second, `15`: 15 * time.Second, `""`: 0, `9223372036`: 9223372036 * time.Second,
	} {
		if err := json.Unmarshal([]byte(`{"timeout": `+in+`}`), &v); err != nil || v.Timeout.Std() != want {
			t.Errorf("%s: %v %v", in, v.Timeout.Std(), err)
		}
	}
	for _, in := range []string{`18446744074`, `9223372037`, `-9223372037`, `1e30`, `1.5`, `"9999999999h"`, `"soon"`, `true`} {
		err := json.Unmarshal([]byte(`{"timeout": `+in+`}`), &v)
		var ute *json.UnmarshalTypeError
		if !errors.As(err, &ute) || ute.Field != "timeout" {
			t.Errorf("%s: %v (want a type error naming timeout)", in, err)
		}
	}
}

func TestTimeRange(t *testing.T) {
	t.Parallel()
	var v struct {
		At Time `json:"at"`
	}
	for _, in := range []string{`1e300`, `-1`, `253402300799001`, `"yesterday"`} {
		err := json.Unmarshal([]byte(`{"at": `+in+`}`), &v)
		var ute *json.UnmarshalTypeError
		if !errors.As(err, &ute) || ute.Field != "at" {
			t.Errorf("%s: %v", in, err)
		}
	}
	if err := json.Unmarshal([]byte(`{"at": 1767366245}`), &v); err != nil || v.At.Unix() != 1767366245 {
		t.Errorf("seconds: %v %v", v.At, err)
	}
	if err := json.Unmarshal([]byte(`{"at": 1767366245123}`), &v); err != nil || v.At.UnixMilli() != 1767366245123 {
		t.Errorf("milliseconds: %v %v", v.At, err)
	}
}

func TestCredentialHeader(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]bool{
		"Authorization": true, "proxy-authorization": true, "Cookie": true, "X-Api-Key": true, "X-Auth-Token": true,
		"X-Client-Secret": true, "X-Password": true, "X-Hub-Signature": true, "X-Session-Id": true,
		"X-Team": false, "Accept": false, "X-Request-Id": false,
	} {
		if CredentialHeader(name) != want {
			t.Errorf("CredentialHeader(%s) = %v", name, !want)
		}
	}
}

func TestControlCharacters(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{"plain text é 漢": false, "a\x00": true, "a\nb": true, "a\tb": true, "\u0085": true, "\x7f": true, "\xff": true} {
		if HasControl(s) != want {
			t.Errorf("HasControl(%q) = %v", s, !want)
		}
	}
	for s, want := range map[string]bool{"Bearer abc": true, "a\tb": true, "a\r\nb": false, "a\x00": false, "\xff": false} {
		if ValidHeaderValue(s) != want {
			t.Errorf("ValidHeaderValue(%q) = %v", s, !want)
		}
	}
}
