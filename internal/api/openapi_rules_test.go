package api

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/herald-hq/herald/internal/format"
)

// The document keeps the rules of redocly's "recommended" set that generated
// clients depend on, and the shapes generators type well: a license with a
// URL; every required property defined next to it; no unused schema; no
// schema that is only an allOf without properties of its own; request bodies
// named components (oapi-codegen gives an inline oneOf body a type without
// its From/As methods).
func TestOpenAPIClientFriendly(t *testing.T) {
	t.Parallel()
	var doc map[string]any
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	info := doc["info"].(map[string]any)
	if lic, _ := info["license"].(map[string]any); lic == nil || lic["url"] == "" || lic["url"] == nil {
		t.Errorf("info.license.url missing: %v", info["license"])
	}
	var walk func(x any, path string)
	walk = func(x any, path string) {
		switch v := x.(type) {
		case map[string]any:
			if req, ok := v["required"].([]any); ok {
				props, _ := v["properties"].(map[string]any)
				for _, r := range req {
					if _, ok := props[r.(string)]; !ok {
						t.Errorf("%s: required %q is not defined in properties", path, r)
					}
				}
			}
			if all, ok := v["allOf"].([]any); ok {
				for i, part := range all {
					if m, ok := part.(map[string]any); ok && m["$ref"] == nil && m["properties"] == nil {
						t.Errorf("%s: allOf[%d] adds no properties (generators type it as an empty object)", path, i)
					}
				}
			}
			for k, c := range v {
				walk(c, path+"/"+k)
			}
		case []any:
			for i, c := range v {
				walk(c, fmt.Sprintf("%s/%d", path, i))
			}
		}
	}
	walk(doc, "#")

	text := string(openAPIDocument)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	for name := range schemas {
		if !strings.Contains(text, `"#/components/schemas/`+name+`"`) {
			t.Errorf("schema %s is never used", name)
		}
	}
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			o, ok := op.(map[string]any)
			if !ok {
				continue
			}
			if rb, ok := o["requestBody"].(map[string]any); ok {
				for ct, media := range rb["content"].(map[string]any) {
					if s := media.(map[string]any)["schema"].(map[string]any); s["$ref"] == nil {
						t.Errorf("%s %s: the %s request body is not a named schema", method, path, ct)
					}
				}
			}
		}
	}
	// The format enum is the list Herald accepts.
	enum := schemas["Format"].(map[string]any)["enum"].([]any)
	var got []string
	for _, e := range enum {
		got = append(got, e.(string))
	}
	for _, f := range format.Formats() {
		if !slices.Contains(got, f) {
			t.Errorf("Format enum %v lacks %s", got, f)
		}
	}
}
