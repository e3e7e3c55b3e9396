package locksteptest_test

import (
	"testing"

	"github.com/peerplay/peerplay/internal/deptest"
)

// TestDeps: the test harness adds only memnet to what lockstep uses.
func TestDeps(t *testing.T) {
	deptest.Check(t, deptest.Rule{
		Package: deptest.Module + "/sync/lockstep/locksteptest",
		Allow: []string{
			deptest.Module + "/sync/lockstep",
			deptest.Module + "/sync/internal/predict",
			deptest.Module + "/netcode/transport",
			deptest.Module + "/netcode/memnet",
			deptest.Module + "/internal/drain",
			"github.com/google/flatbuffers",
		},
	})
}
