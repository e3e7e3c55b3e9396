package fbenvelope_test

import (
	"testing"

	"github.com/peerplay/peerplay/internal/deptest"
)

// Lobby and chat import this package into every game, including the
// browser build: it stays on the FlatBuffers runtime and the standard
// library.
func TestDeps(t *testing.T) {
	allow := []string{"github.com/google/flatbuffers"}
	deptest.Check(t, deptest.Rule{Package: deptest.Module + "/internal/fbenvelope", Allow: allow})
	deptest.Check(t, deptest.Rule{Package: deptest.Module + "/internal/fbenvelope", Allow: allow, Env: []string{"GOOS=js", "GOARCH=wasm"}})
}
