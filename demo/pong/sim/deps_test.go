package sim

import (
	"testing"

	"github.com/peerplay/peerplay/internal/deptest"
)

// The simulation must stay pure: standard library only (no ebiten, no SDK).
func TestDeps(t *testing.T) {
	deptest.Check(t, deptest.Rule{Package: deptest.Module + "/demo/pong/sim"})
}
