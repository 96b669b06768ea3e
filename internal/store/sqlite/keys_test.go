package sqlite

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/store"
)

// A delivery ID's key is 16 bytes that read back as the ID, and keys sort
// as their IDs do.
func TestDeliveryKeys(t *testing.T) {
	var g store.IDGen
	var ids []string
	for range 200 {
		ids = append(ids, g.Next("dlv"))
	}
	ids = append(ids, herald.NewID("dlv"), "dlv_00000000000000000000000000", "dlv_7zzzzzzzzzzzzzzzzzzzzzzzzz")
	var keys [][]byte
	for _, id := range ids {
		k, ok := dkey(id).([]byte)
		if !ok || len(k) != 16 {
			t.Fatalf("%s: key %v", id, dkey(id))
		}
		var back string
		if err := did(&back).Scan(k); err != nil || back != id {
			t.Fatalf("%s read back as %q, %v", id, back, err)
		}
		keys = append(keys, k)
	}
	if !slices.IsSortedFunc(keys[:200], bytes.Compare) {
		t.Fatal("keys of increasing IDs do not increase")
	}
	for _, odd := range []string{"dlv_1", "dlv_8zzzzzzzzzzzzzzzzzzzzzzzzz", "dlv_01M9160S62CBCVW2XTM1R36MYD",
		"dlv_01m9160s62cbcvw2xtm1r36myi", "att_01m9160s62cbcvw2xtm1r36myd", "", "dlv_01m9160s62cbcvw2xtm1r36myd0"} {
		if k, ok := dkey(odd).(string); !ok || k != odd {
			t.Errorf("%q: key %v, want the text", odd, dkey(odd))
		}
	}
	if got := keyList([]string{"dlv_00000000000000000000000001", `x"y`}); got != `["x00000000000000000000000000000001","tx\"y"]` {
		t.Fatalf("keyList = %s", got)
	}
}

func FuzzDeliveryKey(f *testing.F) {
	f.Add("dlv_01m9160s62cbcvw2xtm1r36myd")
	f.Add("dlv_zzzzzzzzzzzzzzzzzzzzzzzzzz")
	f.Fuzz(func(t *testing.T, id string) {
		var back string
		if err := did(&back).Scan(dkey(id)); err != nil {
			t.Fatal(err)
		}
		if back != id {
			t.Fatalf("%q read back as %q", id, back)
		}
		if k, blob := dkey(id).([]byte); blob && (len(k) != 16 || len(id) != 30 || !strings.HasPrefix(id, "dlv_")) {
			t.Fatalf("%q: key %x", id, k)
		}
	})
}
