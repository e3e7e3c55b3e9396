package rollback_test

import (
	"testing"

	"github.com/peerplay/peerplay/internal/deptest"
)

// TestDeps: rollback is the lockstep engine in predicting mode, so it
// imports what lockstep does and nothing more (it compiles for wasm).
func TestDeps(t *testing.T) {
	deptest.Check(t, deptest.Rule{
		Package: deptest.Module + "/sync/rollback",
		Allow: []string{
			deptest.Module + "/sync/lockstep",
			deptest.Module + "/sync/internal/predict",
			deptest.Module + "/netcode/transport",
			deptest.Module + "/internal/drain",
			"github.com/google/flatbuffers",
		},
	})
}
