package signaling_test

import (
	"testing"

	"github.com/peerplay/peerplay/internal/deptest"
)

// TestDeps: the library stays free of prometheus and NATS (signald adapts
// Stats; a NATS Backplane lives in its own package).
func TestDeps(t *testing.T) {
	deptest.Check(t, deptest.Rule{
		Package: deptest.Module + "/signaling",
		Allow: []string{
			deptest.Module + "/netcode/transport",
			deptest.Module + "/signaling/internal/rooms",
			"github.com/coder/websocket",
			"github.com/pion/stun/v4",
			"github.com/pion/turn/v5",
			"github.com/pion/transport/v5",
			"github.com/pion/logging",
			"github.com/pion/dtls/v3", // pulled in by pion/turn/v5
			"github.com/pion/randutil",
			"golang.org/x/",
			"github.com/wlynxg/anet", // pion/transport's interface listing on Android
		},
		Deny: []string{"github.com/prometheus", "github.com/nats-io", "github.com/pion/webrtc"},
	})
}
