package drainconv

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// pending lists shipped names that break the convention and whose rename is
// planned but not done (CONTRIBUTING.md's table says where). The test fails
// when an entry is no longer needed, so the list only shrinks.
var pending = map[string]string{}

// TestDrainConvention checks every SDK package a game imports (not internal
// packages, not the nested demo module):
//   - an exported method named Poll… on an exported type takes nothing and
//     returns one slice: PollEvents returns []Event, any other is
//     Poll<Ts> returning []T (PollMessages() []Message); a bare Poll is
//     not allowed;
//   - a type that hands out a channel of events (for a consumer blocking in
//     a select) also has PollEvents, the game loop's drain;
//   - every exported constant in a block of EventKind constants (typed, or
//     re-exported next to EventKindUnknown) is named Event…;
//
// unless the declaration is marked Deprecated (an alias kept for one
// release) or listed in pending.
func TestDrainConvention(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	var problems []string
	report := func(key, msg string) {
		if _, ok := pending[key]; ok {
			used[key] = true
			return
		}
		problems = append(problems, key+": "+msg)
	}
	checked := 0
	pollers := map[string]bool{}   // pkg.Type with a PollEvents method
	chans := map[string][]string{} // pkg.Type -> methods handing out a channel of events
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "testdata" || name == "demo" || name == "internal" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		for _, decl := range f.Decls {
			switch decl := decl.(type) {
			case *ast.FuncDecl:
				if decl.Recv == nil || !decl.Name.IsExported() || deprecated(decl.Doc) {
					continue
				}
				recv := recvName(decl.Recv.List[0].Type)
				if !ast.IsExported(recv) {
					continue
				}
				key := pkg + "." + recv + "." + decl.Name.Name
				if decl.Name.Name == "PollEvents" {
					pollers[pkg+"."+recv] = true
				}
				if strings.HasPrefix(decl.Name.Name, "Poll") {
					checked++
					if msg := checkPoll(decl); msg != "" {
						report(key, msg)
					}
				}
				if res := decl.Type.Results; res != nil {
					for _, r := range res.List {
						if ch, ok := r.Type.(*ast.ChanType); ok && strings.Contains(exprName(ch.Value), "Event") {
							chans[pkg+"."+recv] = append(chans[pkg+"."+recv], key)
						}
					}
				}
			case *ast.GenDecl:
				if decl.Tok != token.CONST {
					continue
				}
				kinds := false // an EventKind block, typed or re-exported
				for _, spec := range decl.Specs {
					vs := spec.(*ast.ValueSpec)
					if exprName(vs.Type) == "EventKind" {
						kinds = true
					}
					for _, n := range vs.Names {
						if n.Name == "EventKindUnknown" || n.Name == "EventUnknown" {
							kinds = true
						}
					}
				}
				if !kinds {
					continue
				}
				for _, spec := range decl.Specs {
					vs := spec.(*ast.ValueSpec)
					if deprecated(vs.Doc) {
						continue
					}
					for _, n := range vs.Names {
						checked++
						if n.IsExported() && !strings.HasPrefix(n.Name, "Event") {
							report(pkg+"."+n.Name, "an EventKind constant must be named Event…")
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for typ, keys := range chans {
		if !pollers[typ] {
			for _, key := range keys {
				report(key, "hands out a channel of events and "+typ+" has no PollEvents() []Event")
			}
		}
	}
	if checked < 20 {
		t.Fatalf("checked only %d declarations: is the walk rooted at the repository?", checked)
	}
	for _, p := range problems {
		t.Errorf("%s (CONTRIBUTING.md, the drain convention)", p)
	}
	for k := range pending {
		if !used[k] {
			t.Errorf("pending entry %s is no longer needed: remove it", k)
		}
	}
}

// checkPoll returns what is wrong with a Poll… method, or "".
func checkPoll(fn *ast.FuncDecl) string {
	name := fn.Name.Name
	if name == "Poll" {
		return "a bare Poll: name it PollEvents (facts) or Poll<Ts> (data)"
	}
	if fn.Type.Params.NumFields() != 0 {
		return "a drain takes no arguments"
	}
	res := fn.Type.Results
	if res.NumFields() != 1 {
		return "a drain returns one slice"
	}
	arr, ok := res.List[0].Type.(*ast.ArrayType)
	if !ok || arr.Len != nil {
		return "a drain returns a slice"
	}
	elem := exprName(arr.Elt)
	if i := strings.LastIndex(elem, "."); i >= 0 {
		elem = elem[i+1:]
	}
	if name != "Poll"+plural(elem) {
		return "returns []" + elem + ": name it Poll" + plural(elem)
	}
	return ""
}

func plural(s string) string {
	switch {
	case strings.HasSuffix(s, "y") && !strings.HasSuffix(s, "ey"):
		return s[:len(s)-1] + "ies"
	case strings.HasSuffix(s, "s"):
		return s + "es"
	}
	return s + "s"
}

func deprecated(doc *ast.CommentGroup) bool {
	return doc != nil && strings.Contains(doc.Text(), "Deprecated:")
}

func recvName(e ast.Expr) string {
	for {
		switch x := e.(type) {
		case *ast.StarExpr:
			e = x.X
		case *ast.IndexExpr:
			e = x.X
		case *ast.IndexListExpr:
			e = x.X
		case *ast.Ident:
			return x.Name
		default:
			return ""
		}
	}
}

func exprName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return exprName(x.X) + "." + x.Sel.Name
	case *ast.StarExpr:
		return exprName(x.X)
	}
	return ""
}
