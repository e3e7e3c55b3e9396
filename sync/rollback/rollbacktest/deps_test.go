package rollbacktest_test

import (
	"testing"

	"github.com/peerplay/peerplay/internal/deptest"
)

// TestDeps: the harness adds only memnet to what rollback uses.
func TestDeps(t *testing.T) {
	deptest.Check(t, deptest.Rule{
		Package: deptest.Module + "/sync/rollback/rollbacktest",
		Allow: []string{
			deptest.Module + "/sync/rollback",
			deptest.Module + "/sync/lockstep",
			deptest.Module + "/sync/internal/predict",
			deptest.Module + "/netcode/transport",
			deptest.Module + "/netcode/memnet",
			deptest.Module + "/internal/drain",
			"github.com/google/flatbuffers",
		},
	})
}
