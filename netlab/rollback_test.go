//go:build netlab

package netlab_test

import (
	"testing"

	"github.com/peerplay/peerplay/netlab"
)

// TestPongRollbackNAT: headless pong bots with -rollback (sync/rollback
// over real netcode) play through signald across NATs (two restricted,
// and a restricted against a symmetric one: TURN) and each pair prints
// equal results, checksum included (issue 16).
func TestPongRollbackNAT(t *testing.T) {
	lab := netlab.New(t, netlab.Config{})
	pairs := []struct {
		name   string
		h1, h2 *netlab.Host
	}{
		{"restricted", lab.AddRouter("r1", netlab.NATRestricted).AddHost("r1h"), lab.AddRouter("r2", netlab.NATRestricted).AddHost("r2h")},
		{"mixed", lab.AddRouter("m1", netlab.NATRestricted).AddHost("m1h"), lab.AddRouter("m2", netlab.NATSymmetric).AddHost("m2h")},
	}
	startSignald(t, lab)
	var matches []match
	for _, p := range pairs {
		matches = append(matches, startMatch(t, p.name, p.h1, p.h2, "-signal", signalURL, "-lan=false", "-rollback"))
	}
	for _, m := range matches {
		m.check(t)
	}
}
