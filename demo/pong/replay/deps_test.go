package replay

import (
	"testing"

	"github.com/peerplay/peerplay/internal/deptest"
)

func TestDeps(t *testing.T) {
	deptest.Check(t, deptest.Rule{
		Package: deptest.Module + "/demo/pong/replay",
		Allow:   []string{deptest.Module + "/demo/pong/sim", deptest.Module + "/sync/lockstep", deptest.Module + "/sync/internal", deptest.Module + "/netcode/transport", deptest.Module + "/internal/drain", "github.com/google/flatbuffers"},
	})
}
