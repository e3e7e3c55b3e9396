package lobby

import (
	"testing"

	"github.com/peerplay/peerplay/internal/deptest"
)

func TestDeps(t *testing.T) {
	allow := []string{
		deptest.Module + "/netcode/transport",
		deptest.Module + "/lobby/internal/",
		deptest.Module + "/internal/safetext",
		deptest.Module + "/internal/fbenvelope",
		deptest.Module + "/internal/drain",
		"github.com/google/flatbuffers",
	}
	deptest.Check(t, deptest.Rule{Package: deptest.Module + "/lobby", Allow: allow})
	deptest.Check(t, deptest.Rule{Package: deptest.Module + "/lobby", Allow: allow, Env: []string{"GOOS=js", "GOARCH=wasm"}})
}
