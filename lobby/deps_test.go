package lobby

import (
	"testing"

	"github.com/peerplay/peerplay/internal/deptest"
)

func TestDeps(t *testing.T) {
	deptest.Check(t, deptest.Rule{
		Package: deptest.Module + "/lobby",
		Allow: []string{
			deptest.Module + "/netcode/transport",
			deptest.Module + "/lobby/internal/",
			deptest.Module + "/internal/safetext",
			"github.com/google/flatbuffers",
		},
	})
	deptest.Check(t, deptest.Rule{Package: deptest.Module + "/lobby", Env: []string{"GOOS=js", "GOARCH=wasm"},
		Allow: []string{
			deptest.Module + "/netcode/transport",
			deptest.Module + "/lobby/internal/",
			deptest.Module + "/internal/safetext",
			"github.com/google/flatbuffers",
		}})
}
