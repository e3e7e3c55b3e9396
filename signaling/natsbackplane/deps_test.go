package natsbackplane_test

import (
	"testing"

	"github.com/peerplay/peerplay/internal/deptest"
)

// TestDeps: the backplane is signaling + nats.go; no WebRTC, no
// Prometheus, no embedded NATS server.
func TestDeps(t *testing.T) {
	deptest.Check(t, deptest.Rule{
		Package: deptest.Module + "/signaling/natsbackplane",
		Allow: []string{
			deptest.Module + "/signaling", deptest.Module + "/signaling/internal/rooms", deptest.Module + "/netcode/transport",
			"github.com/nats-io/nats.go", "github.com/nats-io/nkeys", "github.com/nats-io/nuid",
			"github.com/klauspost/compress",
			"github.com/coder/websocket", "github.com/pion/stun/v4", "github.com/pion/turn/v5",
			"github.com/pion/transport/v5", "github.com/pion/logging", "github.com/pion/dtls/v3",
			"github.com/pion/randutil", "github.com/wlynxg/anet", "golang.org/x/",
		},
		Deny: []string{"github.com/pion/webrtc", "github.com/prometheus", "github.com/nats-io/nats-server"},
	})
}
