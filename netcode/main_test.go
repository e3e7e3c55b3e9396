package netcode

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any goroutine (ours or pion's) survives
// the tests: every Mesh is closed by its test's cleanup, and Close waits
// for everything it started.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
