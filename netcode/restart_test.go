//go:build !js

package netcode

import (
	"testing"
	"time"
)

// TestRestartWhileSeatHeld: a peer whose process dies (no goodbye, its
// links silent) starts again with its kept Identity while the signaling
// server still holds its old seat (as it does for a dropped connection's
// resume grace) and the other side's link to the dead process still looks
// up (ICE has not noticed). The other side must not take the new link for
// a seat move of the old one: it probes the old link, which stays silent,
// and the new link replaces it, with its handshake finished, so messages
// flow between the restarted peer and the others within a few seconds.
// (Before, the proven new link was retired and the dead one kept until
// ICE gave up on it and the peers tried again.)
func TestRestartWhileSeatHeld(t *testing.T) {
	checkLeaks(t)
	sig := startSignaling(t)
	lab := newVNetLab(t, fullCone, fullCone, impair{}, impair{})
	ident, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	withID := func(c *Config) { c.Identity = ident }
	a := join(t, sig.url(), "room", "a", lab.on(lab.netA), withID)
	b := join(t, sig.url(), "room", "b", lab.on(lab.netB))
	waitMesh(t, 20*time.Second, a, b)
	// a dies: its signaling connection stays open (the server holds its
	// seat), it signals nothing more, and its network is gone.
	done := make(chan struct{})
	var held interface{ Close() error }
	a.post(func() {
		held = a.sig
		a.sig, a.sigEvents = nil, nil
		close(done)
	})
	<-done
	t.Cleanup(func() { _ = held.Close() })
	lab.cut.Store(true)
	// a starts again, with the same identity (on LAN B: LAN A is off).
	start := time.Now()
	a2 := join(t, sig.url(), "room", "a again", lab.on(lab.netB), withID)
	waitFor(t, 5*time.Second, "the restarted peer's message", func() bool {
		_ = a2.Channel("rel").Send(b.Local(), []byte("back"))
		msg, ok := b.Channel("rel").TryRecv()
		return ok && msg.From == ident.ID() && string(msg.Data) == "back"
	})
	t.Logf("the restarted peer talks to b %v after its Join began", time.Since(start).Round(time.Millisecond))
}
