package memnet_test

import (
	"testing"

	"github.com/peerplay/peerplay/internal/deptest"
)

func TestDeps(t *testing.T) {
	deptest.Check(t, deptest.Rule{
		Package: deptest.Module + "/netcode/memnet",
		Allow:   []string{deptest.Module + "/netcode/transport"},
	})
}
