//go:build !js

package netcode

import (
	"encoding/binary"
	"testing"
	"time"
)

// TestVNetRelayUpgrade: two peers behind port-restricted NATs connect
// while UDP between the NATs is dropped, so through the TURN relay; then
// the direct path opens. The offering side's relay->direct probes (ICE
// restarts while relayed) move the link to it: both ends report
// EventLinkChanged and a direct Link, and a numbered stream sent on the
// Reliable channel both ways all along arrives whole, in order, once.
// Without the probes the link stays relayed.
func TestVNetRelayUpgrade(t *testing.T) {
	checkLeaks(t)
	sig := startSignaling(t)
	lab := newVNetLab(t, portRestr, portRestr, impair{}, impair{})
	lab.noDirect.Store(true)
	a := join(t, sig.url(), "room", "a", lab.on(lab.netA))
	b := join(t, sig.url(), "room", "b", lab.on(lab.netB))
	waitMesh(t, 20*time.Second, a, b)
	a.PollEvents() // connecting, connected: the log keeps what follows
	b.PollEvents()
	la, lb := &eventLog{m: a}, &eventLog{m: b}
	for _, pair := range [][2]*Mesh{{a, b}, {b, a}} {
		if ps, _ := pair[0].Stats().Peer(pair[1].Local()); !ps.Relayed() {
			t.Fatalf("%s: link %v with direct UDP dropped, want relay", pair[0].cfg.Name, ps.Link)
		}
	}
	lab.noDirect.Store(false)

	// Stream until both ends are direct (and a little longer), checking
	// each side's stream as it arrives.
	var sent, next [2]uint32
	meshes := [2]*Mesh{a, b}
	direct := func() bool {
		for i, m := range meshes {
			ps, _ := m.Stats().Peer(meshes[1-i].Local())
			if !ps.Direct() {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(30 * time.Second)
	var directAt time.Time
	for time.Now().Before(deadline) && (directAt.IsZero() || time.Since(directAt) < 300*time.Millisecond) {
		for i, m := range meshes {
			if err := m.Channel("rel").Send(meshes[1-i].Local(), binary.BigEndian.AppendUint32(nil, sent[i])); err != nil {
				t.Fatal(err)
			}
			sent[i]++
			for msg, ok := m.Channel("rel").TryRecv(); ok; msg, ok = m.Channel("rel").TryRecv() {
				if v := binary.BigEndian.Uint32(msg.Data); v != next[i] {
					t.Fatalf("%s: stream message %d arrived as number %d", m.cfg.Name, v, next[i])
				}
				next[i]++
			}
		}
		if directAt.IsZero() && direct() {
			directAt = time.Now()
		}
		time.Sleep(5 * time.Millisecond)
	}
	if directAt.IsZero() {
		for i, m := range meshes {
			ps, _ := m.Stats().Peer(meshes[1-i].Local())
			t.Logf("%s: link %v, probes %d", m.cfg.Name, ps.Link, ps.UpgradeProbes)
		}
		t.Fatal("the link stayed relayed for 30 s after the direct path opened")
	}
	for i, m := range meshes {
		rest := recvN(t, m.Channel("rel"), int(sent[1-i]-next[i]), 10*time.Second)
		for _, msg := range rest {
			if v := binary.BigEndian.Uint32(msg.Data); v != next[i] {
				t.Fatalf("%s: stream message %d arrived as number %d", m.cfg.Name, v, next[i])
			}
			next[i]++
		}
	}
	t.Logf("streams of %d and %d messages arrived whole and in order", next[0], next[1])
	for _, l := range []*eventLog{la, lb} {
		peer := other(l.m, a, b).Local()
		waitFor(t, 5*time.Second, "EventLinkChanged", func() bool { return l.has(EventLinkChanged, peer) })
		for _, ev := range l.poll() {
			if ev.Kind != EventLinkChanged {
				t.Errorf("%s: unexpected %v during the upgrade", l.m.cfg.Name, ev)
			}
		}
	}
	off, _ := offerer(t, a, b)
	if ps, _ := off.Stats().Peer(other(off, a, b).Local()); ps.UpgradeProbes == 0 || ps.ICERestarts != 0 {
		t.Errorf("offerer: %d upgrade probes and %d ICE restarts, want some probes and no restart", ps.UpgradeProbes, ps.ICERestarts)
	}
}

// TestVNetRelayUpgradeNone: with no direct path ever, the offering side
// makes Config.UpgradeProbes probes and no more (a peer that offers
// direct candidates that never work costs that many ICE restarts), the
// link stays relayed, and the probes interrupt nothing: no event, and a
// Reliable stream sent across them arrives whole and in order.
func TestVNetRelayUpgradeNone(t *testing.T) {
	checkLeaks(t)
	sig := startSignaling(t)
	lab := newVNetLab(t, portRestr, portRestr, impair{}, impair{})
	lab.noDirect.Store(true)
	two := func(c *Config) { c.UpgradeProbes = 2 } // at 1 s, then 2 s after the first
	a := join(t, sig.url(), "room", "a", lab.on(lab.netA), two)
	b := join(t, sig.url(), "room", "b", lab.on(lab.netB), two)
	waitMesh(t, 20*time.Second, a, b)
	a.PollEvents()
	b.PollEvents()
	off, ans := offerer(t, a, b)
	const n = 600 // 5 ms apart: 3 s and more, across both probes
	for i := range n {
		if err := off.Channel("rel").Send(ans.Local(), binary.BigEndian.AppendUint32(nil, uint32(i))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for i, msg := range recvN(t, ans.Channel("rel"), n, 20*time.Second) {
		if v := binary.BigEndian.Uint32(msg.Data); v != uint32(i) {
			t.Fatalf("stream message %d arrived as number %d", v, i)
		}
	}
	waitFor(t, 20*time.Second, "two probes", func() bool {
		ps, _ := off.Stats().Peer(ans.Local())
		return ps.UpgradeProbes == 2
	})
	time.Sleep(5 * time.Second) // a third would have come 4 s after the second
	for _, pair := range [][2]*Mesh{{off, ans}, {ans, off}} {
		ps, _ := pair[0].Stats().Peer(pair[1].Local())
		if !ps.Relayed() || ps.UpgradeProbes != map[bool]int{true: 2, false: 0}[pair[0] == off] {
			t.Errorf("%s: link %v after %d probes; want relay after 2 (offerer) or 0", pair[0].cfg.Name, ps.Link, ps.UpgradeProbes)
		}
		for _, ev := range pair[0].PollEvents() {
			t.Errorf("%s: unexpected %v during the probes", pair[0].cfg.Name, ev)
		}
	}
}

// TestVNetRelayUpgradeCut: the path is lost just before a probe, so the
// probe's ICE restart finds no pair at all. pion's restarted agents stay
// "checking" (they would fail only after ICEDisconnectedTimeout plus
// ICEFailedTimeout, here 33 s), so without netcode's own bound neither
// side would report the loss for that long; with it both see
// EventDisconnected, and EventConnected once the path is back, on the
// same connection.
func TestVNetRelayUpgradeCut(t *testing.T) {
	checkLeaks(t)
	sig := startSignaling(t)
	lab := newVNetLab(t, portRestr, portRestr, impair{}, impair{})
	lab.noDirect.Store(true)
	slow := func(c *Config) { c.ICEDisconnectedTimeout, c.ICEFailedTimeout = 3*time.Second, 30*time.Second }
	a := join(t, sig.url(), "room", "a", lab.on(lab.netA), slow)
	b := join(t, sig.url(), "room", "b", lab.on(lab.netB), slow)
	waitMesh(t, 20*time.Second, a, b)
	lab.cut.Store(true) // the first probe comes 1 s after the connect, ICE notices after 3 s
	a.PollEvents()
	b.PollEvents()
	la, lb := &eventLog{m: a}, &eventLog{m: b}
	off, ans := offerer(t, a, b)
	for _, l := range []*eventLog{la, lb} {
		waitFor(t, 15*time.Second, "EventDisconnected", func() bool { return l.has(EventDisconnected, other(l.m, a, b).Local()) })
	}
	if ps, _ := off.Stats().Peer(ans.Local()); ps.UpgradeProbes != 1 {
		t.Fatalf("offerer: %d probes before the loss was reported, want 1 (the loss must come from the probe)", ps.UpgradeProbes)
	}
	lab.cut.Store(false)
	for _, l := range []*eventLog{la, lb} {
		waitFor(t, 20*time.Second, "EventConnected", func() bool { return l.has(EventConnected, other(l.m, a, b).Local()) })
	}
	if err := off.Channel("rel").Send(ans.Local(), []byte("back")); err != nil {
		t.Fatal(err)
	}
	if got := recvN(t, ans.Channel("rel"), 1, 10*time.Second)[0]; string(got.Data) != "back" {
		t.Errorf("after the cut: got %q", got.Data)
	}
	for _, ev := range append(la.poll(), lb.poll()...) {
		if ev.Kind == EventFailed || ev.Kind == EventLeft {
			t.Errorf("unexpected %v", ev)
		}
	}
}
