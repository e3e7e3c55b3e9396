// Package deptest checks the dependency direction of Peerplay's packages
// (DESIGN.md, "Layout and dependency direction") with `go list -deps`, so
// the rule is enforced by tests rather than remembered.
//
// Each constrained package has a deps_test.go:
//
//	func TestDeps(t *testing.T) {
//		deptest.Check(t, deptest.Rule{
//			Package: "github.com/peerplay/peerplay/netcode/transport",
//			Allow:   nil, // standard library only
//		})
//	}
package deptest

import (
	"os/exec"
	"strings"
	"testing"
)

// Module is the SDK's module path.
const Module = "github.com/peerplay/peerplay"

// Rule says what one package may import, transitively.
type Rule struct {
	// Package is the import path checked.
	Package string
	// Allow lists import-path prefixes a non-standard dependency must match.
	// Empty means: the standard library only (plus Package itself).
	Allow []string
	// Deny lists import-path prefixes that must not appear even if Allow
	// would let them in (e.g. pion under the module's own prefix rules).
	Deny []string
	// Env adds environment variables to `go list` (e.g. "GOOS=js").
	Env []string
}

// Deps returns the non-standard transitive dependencies of pkg.
func Deps(t testing.TB, pkg string, env ...string) []string {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg)
	cmd.Env = append(cmd.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, ee.Stderr)
		}
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	var deps []string
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" && l != pkg {
			deps = append(deps, l)
		}
	}
	return deps
}

// Check fails t for every dependency of r.Package that r does not allow.
func Check(t testing.TB, r Rule) {
	t.Helper()
	for _, d := range Deps(t, r.Package, r.Env...) {
		if hasPrefix(d, r.Deny) {
			t.Errorf("%s depends on %s, which is denied", r.Package, d)
			continue
		}
		if !hasPrefix(d, r.Allow) {
			t.Errorf("%s depends on %s; allowed: std + %v", r.Package, d, r.Allow)
		}
	}
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if s == p || strings.HasPrefix(s, strings.TrimSuffix(p, "/")+"/") {
			return true
		}
	}
	return false
}
