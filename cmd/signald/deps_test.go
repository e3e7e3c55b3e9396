package main

import (
	"testing"

	"github.com/peerplay/peerplay/internal/deptest"
)

// TestDeps: signald is signaling + its NATS backplane + prometheus; no
// WebRTC stack.
func TestDeps(t *testing.T) {
	deptest.Check(t, deptest.Rule{
		Package: deptest.Module + "/cmd/signald",
		Allow: []string{
			deptest.Module + "/signaling", deptest.Module + "/netcode/transport",
			"github.com/coder/websocket", "github.com/pion/", "github.com/wlynxg/anet", "golang.org/x/",
			"github.com/prometheus/", "github.com/beorn7/perks", "github.com/cespare/xxhash",
			"github.com/munnerz/goautoneg", "google.golang.org/protobuf", "go.yaml.in/yaml",
			"github.com/nats-io/", "github.com/klauspost/compress",
		},
		Deny: []string{"github.com/pion/webrtc", "github.com/nats-io/nats-server"},
	})
}
