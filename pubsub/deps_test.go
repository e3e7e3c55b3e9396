package pubsub

import (
	"testing"

	"github.com/peerplay/peerplay/internal/deptest"
)

func TestDeps(t *testing.T) {
	allow := []string{
		deptest.Module + "/netcode/transport",
		deptest.Module + "/internal/pubsubfb",
		deptest.Module + "/internal/pubsubwire",
		deptest.Module + "/internal/fbenvelope",
		deptest.Module + "/internal/drain",
		"github.com/google/flatbuffers",
	}
	deptest.Check(t, deptest.Rule{Package: deptest.Module + "/pubsub", Allow: allow})
	deptest.Check(t, deptest.Rule{Package: deptest.Module + "/pubsub", Allow: allow, Env: []string{"GOOS=js", "GOARCH=wasm"}})
}
