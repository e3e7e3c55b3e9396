//go:build js

package netcode

import "time"

// punchSet: a browser's ICE sockets are its own, so a js build neither
// primes nor holds (ice_punch.go).
type punchSet struct{}

func newPunchSet() *punchSet { return nil }

func (*punchSet) addRemote(string) {}

func (*punchSet) arm() {}

func (*punchSet) primers() int { return 0 }

func (m *Mesh) holdCandidates(*peer) {}

func (m *Mesh) releaseHeld(*peer, time.Time) {}
