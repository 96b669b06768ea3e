package web

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/herald-hq/herald"
	"github.com/herald-hq/herald/internal/sender"
)

// errKeyUse is one place in the Go code that gives an error a catalog key.
type errKeyUse struct {
	pos  string
	key  string
	args []string // the names of its Args; nil when Args is nil
}

// scanErrorKeys parses every non-test Go file of the module and returns the
// keys given to errors (herald.InvalidKey, herald.ErrorfKey, (*Error).WithKey,
// herald.Error{Key: ...}) and the object kinds passed to herald.NotFound and
// its wrappers. A key or argument list the scan cannot read is an error: keys
// must be string literals and Args nil or a literal map, so that this test
// sees them all.
func scanErrorKeys(t *testing.T, root string) (uses []errKeyUse, kinds []string) {
	t.Helper()
	fset := token.NewFileSet()
	lit := func(e ast.Expr) (string, bool) {
		b, ok := e.(*ast.BasicLit)
		if !ok || b.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(b.Value)
		return s, err == nil
	}
	argNames := func(e ast.Expr) ([]string, bool) {
		if id, ok := e.(*ast.Ident); ok && id.Name == "nil" {
			return nil, true
		}
		cl, ok := e.(*ast.CompositeLit)
		if !ok {
			return nil, false
		}
		names := []string{}
		for _, el := range cl.Elts {
			kv, ok := el.(*ast.KeyValueExpr)
			if !ok {
				return nil, false
			}
			n, ok := lit(kv.Key)
			if !ok {
				return nil, false
			}
			names = append(names, n)
		}
		return names, true
	}
	add := func(n ast.Node, keyExpr, argsExpr ast.Expr) {
		pos := fset.Position(n.Pos()).String()
		key, ok := lit(keyExpr)
		if id, isIdent := keyExpr.(*ast.Ident); !ok && isIdent && id.Name == "key" && filepath.Base(pos[:strings.IndexByte(pos, ':')]) == "error.go" {
			return // the helpers themselves, passing their key on
		}
		if !ok {
			t.Errorf("%s: the error key is not a string literal", pos)
			return
		}
		var args []string
		if argsExpr != nil {
			if args, ok = argNames(argsExpr); !ok {
				t.Errorf("%s: the Args of %q are not nil or a map literal with literal names", pos, key)
				return
			}
		}
		uses = append(uses, errKeyUse{pos: pos, key: key, args: args})
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				var name string
				switch fn := n.Fun.(type) {
				case *ast.SelectorExpr:
					name = fn.Sel.Name
				case *ast.Ident:
					name = fn.Name
				}
				switch {
				case (name == "InvalidKey" || name == "ErrorfKey") && len(n.Args) >= 3:
					add(n, n.Args[1], n.Args[2])
				case name == "WithKey" && len(n.Args) == 2:
					add(n, n.Args[0], n.Args[1])
				case name == "NotFound" && len(n.Args) == 1,
					name == "notFoundIfNone" && len(n.Args) == 3,
					(name == "RequireRead" || name == "RequireWrite") && len(n.Args) == 2:
					if k, ok := lit(n.Args[len(n.Args)-1]); ok {
						kinds = append(kinds, k)
					}
				}
			case *ast.CompositeLit:
				sel, ok := n.Type.(*ast.SelectorExpr)
				if !ok || sel.Sel.Name != "Error" {
					if id, ok := n.Type.(*ast.Ident); !ok || id.Name != "Error" {
						return true
					}
				}
				var keyExpr, argsExpr ast.Expr
				for _, el := range n.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok {
						switch id, _ := kv.Key.(*ast.Ident); {
						case id == nil:
						case id.Name == "Key":
							keyExpr = kv.Value
						case id.Name == "Args":
							argsExpr = kv.Value
						}
					}
				}
				if keyExpr != nil {
					add(n, keyExpr, argsExpr)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return uses, kinds
}

func placeholders(s string) []string {
	var out []string
	for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Every key the Go code gives an error has a text in every catalog, with the
// same placeholders, each of them an argument every use of the key passes;
// the catalogs have no err.* text that no code uses; and the words the
// console translates in arguments (kinds, roles, challenge reasons) have
// texts too.
func TestEveryErrorKeyIsTranslated(t *testing.T) {
	t.Parallel()
	cs, err := loadCatalogs(catalogFiles)
	if err != nil {
		t.Fatal(err)
	}
	uses, kinds := scanErrorKeys(t, filepath.Join("..", ".."))
	keys := map[string]bool{}
	for _, u := range uses {
		keys[u.key] = true
	}
	if len(keys) < 80 {
		t.Fatalf("found only %d error keys; is the scan broken?", len(keys))
	}
	for _, u := range uses {
		if strings.ContainsAny(u.key, "[]0123456789") {
			t.Errorf("%s: key %q holds an index; pass it in Args", u.pos, u.key)
		}
		en, ok := cs.byLang[defaultLang].texts[errPrefix+u.key]
		if !ok {
			t.Errorf("%s: %s%s is in no catalog", u.pos, errPrefix, u.key)
			continue
		}
		for _, p := range placeholders(en) {
			if !slices.Contains(u.args, p) {
				t.Errorf("%s: %s%s uses {%s}, which this error's Args (%v) lack", u.pos, errPrefix, u.key, p, u.args)
			}
		}
		for _, lang := range cs.langs[1:] {
			other, ok := cs.byLang[lang].texts[errPrefix+u.key]
			if !ok {
				t.Errorf("%s.json lacks %s%s", lang, errPrefix, u.key)
				continue
			}
			if a, b := placeholders(en), placeholders(other); !slices.Equal(a, b) {
				t.Errorf("%s%s: en has placeholders %v, %s has %v", errPrefix, u.key, a, lang, b)
			}
		}
	}
	for _, lang := range cs.langs {
		for k := range cs.byLang[lang].texts {
			if name, ok := strings.CutPrefix(k, errPrefix); ok && !keys[name] {
				t.Errorf("%s.json: %q is used by no error", lang, k)
			}
		}
	}

	words := map[string][]string{
		"kind":   kinds,
		"role":   {herald.RolePlatformAdmin, herald.RoleProjectAdmin, herald.RoleViewer, herald.RolePublisher},
		"reason": {},
	}
	for _, r := range []sender.ChallengeReason{sender.ChallengeWrongToken, sender.ChallengeTimeout, sender.ChallengeStatus,
		sender.ChallengeBadJSON, sender.ChallengeBlocked, sender.ChallengeNetwork, sender.ChallengeConfig} {
		words["reason"] = append(words["reason"], string(r))
	}
	words["why"] = words["reason"]
	if len(kinds) < 5 {
		t.Fatalf("found only the kinds %v; is the scan broken?", kinds)
	}
	if !slices.Equal(slices.Sorted(maps.Keys(words)), slices.Sorted(maps.Keys(translatedArgs))) {
		t.Fatalf("translated arguments %v, but the test knows the values of %v", slices.Sorted(maps.Keys(translatedArgs)), slices.Sorted(maps.Keys(words)))
	}
	for arg, values := range words {
		for _, v := range values {
			if !cs.has(translatedArgs[arg] + v) {
				t.Errorf("argument %s=%q: %s%s is not in the catalogs", arg, v, translatedArgs[arg], v)
			}
		}
	}
}

func TestErrText(t *testing.T) {
	t.Parallel()
	cs, err := loadCatalogs(catalogFiles)
	if err != nil {
		t.Fatal(err)
	}
	en, zh := cs.get("en"), cs.get("zh-CN")
	for _, tc := range []struct {
		err    error
		en, zh string
	}{
		// Without a key, or with a key no catalog has: the message.
		{herald.Invalid("url", "plain %s", "message"), "plain message", "plain message"},
		{herald.InvalidKey("url", "no.such.key", nil, "kept"), "kept", "kept"},
		{errors.New("secret detail"), "internal error", "internal error"},
		{herald.InvalidKey("url", "url.scheme", nil, "url must start with http:// or https://"),
			"url must start with http:// or https://", "URL 必须以 http:// 或 https:// 开头。"},
		// Arguments in place; kinds and roles translated; a wrapped error.
		{herald.NotFound("webhook"), "webhook not found", "未找到Webhook。"},
		{herald.ErrorfKey(herald.EForbidden, "forbidden.change", herald.Args{"role": "viewer", "kind": "delivery"}, "x"),
			"your token (role viewer) may not change this delivery", "您的角色（查看者）无权修改此推送。"},
		{errors.Join(errors.New("ctx"), herald.InvalidKey("conditions[2].values", "condition.values.required", herald.Args{"index": "2", "operator": "In"}, "x")),
			"operator In needs at least one value", "运算符 In 至少需要一个值。"},
		// A missing argument leaves its placeholder.
		{herald.InvalidKey("template", "template.invalid", nil, "x"), "{detail}", "模板有误：{detail}"},
	} {
		if got := en.errText(tc.err); got != tc.en {
			t.Errorf("en %v: %q, want %q", tc.err, got, tc.en)
		}
		if got := zh.errText(tc.err); got != tc.zh {
			t.Errorf("zh-CN %v: %q, want %q", tc.err, got, tc.zh)
		}
	}
}
