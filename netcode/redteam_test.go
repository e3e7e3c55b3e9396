//go:build !js

package netcode

// Red-team tests of the trust rules that live in netcode (see "Threat
// model" in doc.go): real pion peers through a real signaling.Server on
// loopback, one of them hostile.

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
)

// seatOf returns m's current signaling ID.
func seatOf(t *testing.T, m *Mesh) transport.PeerID {
	t.Helper()
	var s transport.PeerID
	if err := m.onLoop(func() { s = m.sigLocal }); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRedTeamClaimAnotherID: mallory claims tom's mesh ID in its signals
// and offers to the victim twice (it is the offering side: its signaling
// ID is the lower one). On main before the fix the victim replaced tom's
// live link with mallory's within about a second and mallory's messages
// arrived with From = tom. Now: tom keeps his link, mallory is refused
// with an event naming its real (key) ID, and nothing from mallory
// arrives as tom.
func TestRedTeamClaimAnotherID(t *testing.T) {
	checkLeaks(t)
	sig := startSignaling(t)
	tom := join(t, sig.url(), "room", "tom")
	victim := join(t, sig.url(), "room", "victim")
	waitMesh(t, 30*time.Second, tom, victim)
	vlog := &eventLog{m: victim}
	vlog.poll()

	// Mallory re-joins until its signaling ID sorts below the victim's,
	// so that it makes the offers.
	vseat := seatOf(t, victim)
	var mallory *Mesh
	for try := 0; ; try++ {
		m := join(t, sig.url(), "room", "mallory", func(c *Config) { c.testClaim = tom.Local() })
		if seatOf(t, m) < vseat {
			mallory = m
			break
		}
		_ = m.Close()
		if try == 30 {
			t.Fatal("no low signaling ID in 30 joins")
		}
	}

	// Mallory writes as fast as it can to whoever it is connected to.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			_ = mallory.Channel("rel").Broadcast([]byte("forged by mallory"))
		}
	}()
	defer func() { close(stop); <-done }()

	forged := func() bool {
		for msg, ok := victim.Channel("rel").TryRecv(); ok; msg, ok = victim.Channel("rel").TryRecv() {
			if bytes.Equal(msg.Data, []byte("forged by mallory")) {
				t.Errorf("victim received mallory's message with From = %s (tom is %s)", msg.From, tom.Local())
				return true
			}
		}
		return false
	}
	var refusal Event
	waitFor(t, 30*time.Second, "the victim to refuse mallory by its real ID", func() bool {
		if forged() {
			t.FailNow()
		}
		ev, ok := vlog.find(EventRefused, mallory.Local())
		refusal = ev
		return ok
	})
	var ie *IdentityError
	if !errors.Is(refusal.Err, ErrImpersonation) || !errors.As(refusal.Err, &ie) ||
		ie.Claimed != tom.Local() || ie.Actual != mallory.Local() {
		t.Fatalf("refusal %v, want an *IdentityError: mallory (%s) claimed tom (%s)", refusal.Err, mallory.Local(), tom.Local())
	}
	if n := victim.Stats().Impersonations; n < 1 {
		t.Errorf("victim Stats.Impersonations = %d, want ≥ 1", n)
	}

	// Mallory keeps trying for a while (its seat is now ignored).
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if forged() {
			t.FailNow()
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, ev := range vlog.poll() {
		if ev.Peer == tom.Local() && ev.Kind != EventConnecting && ev.Kind != EventConnected {
			t.Errorf("victim: event %v about tom during the attack", ev)
		}
	}
	if ps, ok := victim.Stats().Peer(tom.Local()); !ok || !ps.Connected {
		t.Fatalf("victim lost tom: %+v", ps)
	}
	// Tom's link is the real one: his messages arrive, as tom.
	if err := tom.Channel("rel").Send(victim.Local(), []byte("from tom")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "tom's message", func() bool {
		msg, ok := victim.Channel("rel").TryRecv()
		if ok && bytes.Equal(msg.Data, []byte("forged by mallory")) {
			t.Fatalf("forged message after the attack, From = %s", msg.From)
		}
		return ok && msg.From == tom.Local() && string(msg.Data) == "from tom"
	})
}

// TestIdentityKept: a mesh joined with a kept Identity has its ID, and
// after a restart (Close, Join again with the same Identity) the other
// peers know it by the same ID.
func TestIdentityKept(t *testing.T) {
	checkLeaks(t)
	sig := startSignaling(t)
	ident, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	other := join(t, sig.url(), "room", "other")
	for run := range 2 {
		a := join(t, sig.url(), "room", "a", func(c *Config) { c.Identity = ident })
		if a.Local() != ident.ID() {
			t.Fatalf("run %d: Local() = %s, want the identity's %s", run, a.Local(), ident.ID())
		}
		waitMesh(t, 30*time.Second, a, other)
		if err := a.Channel("rel").Send(other.Local(), []byte{byte(run)}); err != nil {
			t.Fatal(err)
		}
		if got := recvN(t, other.Channel("rel"), 1, 10*time.Second)[0]; got.From != ident.ID() || got.Data[0] != byte(run) {
			t.Fatalf("run %d: got %v from %s", run, got.Data, got.From)
		}
		_ = a.Close()
		waitFor(t, 10*time.Second, "other to see a leave", func() bool { return len(other.Peers()) == 0 })
	}
}

// TestBlock: Block closes the link at once, tells the blocked peer, and
// refuses it (it keeps trying: its offers are ignored) until Unblock.
func TestBlock(t *testing.T) {
	checkLeaks(t)
	sig := startSignaling(t)
	fast := func(c *Config) { c.ConnectTimeout = 2 * time.Second }
	a := join(t, sig.url(), "room", "a", fast)
	b := join(t, sig.url(), "room", "b", fast)
	waitMesh(t, 30*time.Second, a, b)
	la, lb := &eventLog{m: a}, &eventLog{m: b}
	if err := a.Block(b.Local(), "kicked by the host"); err != nil {
		t.Fatal(err)
	}
	if len(a.Peers()) != 0 {
		t.Fatalf("a.Peers() after Block: %v", a.Peers())
	}
	if got := a.Blocked(); got[b.Local()] != "kicked by the host" {
		t.Fatalf("Blocked() = %v", got)
	}
	ev, ok := la.find(EventRefused, b.Local())
	if !ok || !errors.Is(ev.Err, ErrBlocked) {
		t.Fatalf("a: event %v, want EventRefused matching ErrBlocked", ev)
	}
	waitFor(t, 10*time.Second, "b to hear it is blocked", func() bool {
		ev, ok := lb.find(EventRefused, a.Local())
		var re *RefusedError
		return ok && errors.Is(ev.Err, ErrBlocked) && errors.As(ev.Err, &re) && re.ByRemote && re.Detail == "kicked by the host"
	})
	// Several connect timeouts pass: b never gets back in.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if len(a.Peers()) != 0 || len(b.Peers()) != 0 {
			t.Fatalf("blocked peer reconnected: a %v, b %v", a.Peers(), b.Peers())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := a.Unblock(b.Local()); err != nil {
		t.Fatal(err)
	}
	waitMesh(t, 30*time.Second, a, b)
	_ = a.Close()
	if err := a.Block(b.Local(), ""); !errors.Is(err, ErrClosed) {
		t.Fatalf("Block after Close: %v", err)
	}
}
