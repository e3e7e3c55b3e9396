package lockstep_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain: the session starts no goroutines; make sure none leak from
// the tests' networks either.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
