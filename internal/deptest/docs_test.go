package deptest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestEveryPackageHasOneDoc checks that each package of the module has a
// package comment, and exactly one file carrying it (doc.go by convention).
func TestEveryPackageHasOneDoc(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{.Dir}}|{{.Doc}}", Module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.SplitN(line, "|", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[2] == "" {
			t.Errorf("%s has no package doc", parts[0])
			continue
		}
		n := countDocFiles(t, parts[1])
		if n != 1 {
			t.Errorf("%s: %d files carry a package comment, want 1 (doc.go)", parts[0], n)
		}
	}
}
