package lockstep_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/peerplay/peerplay/internal/deptest"
)

// TestDeps: lockstep runs over any transport.Conn (memnet in tests, a
// netcode channel in play) and compiles for wasm, so it imports only the
// transport contract, FlatBuffers and the standard library: no pion, no
// netcode, no net, no ebiten.
func TestDeps(t *testing.T) {
	for _, pkg := range []string{"/sync/lockstep", "/sync/lockstep/internal/wire"} {
		deptest.Check(t, deptest.Rule{
			Package: deptest.Module + pkg,
			Allow: []string{
				deptest.Module + "/netcode/transport",
				deptest.Module + "/sync/lockstep/internal/wire",
				deptest.Module + "/sync/internal/predict",
				deptest.Module + "/internal/drain",
				"github.com/google/flatbuffers",
			},
		})
	}
	// deptest sees non-standard packages only; net is standard.
	out, err := exec.Command("go", "list", "-deps", deptest.Module+"/sync/lockstep").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "net" || strings.HasPrefix(p, "net/") {
			t.Errorf("sync/lockstep depends on %s", p)
		}
	}
}
