//go:build !js

package netcode

import (
	"encoding/binary"
	"net"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peerplay/peerplay/signaling"
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
// makes its UpgradeProbes quick probes and then one per UpgradeInterval,
// and never more: a peer that offers direct candidates that never work
// (or a path that never opens) costs each offering peer at most
// UpgradeProbes + t/UpgradeInterval ICE restarts over t seconds of the
// link. The link stays relayed, and the probes interrupt nothing: no
// event, and a Reliable stream sent across them arrives whole and in
// order.
func TestVNetRelayUpgradeNone(t *testing.T) {
	checkLeaks(t)
	sig := startSignaling(t)
	lab := newVNetLab(t, portRestr, portRestr, impair{}, impair{})
	lab.noDirect.Store(true)
	const quick, slow = 2, 2 * time.Second // at 1 s, 2 s after the first, then every 2 s
	cfg := func(c *Config) { c.UpgradeProbes, c.UpgradeInterval = quick, slow }
	a := join(t, sig.url(), "room", "a", lab.on(lab.netA), cfg)
	b := join(t, sig.url(), "room", "b", lab.on(lab.netB), cfg)
	waitMesh(t, 20*time.Second, a, b)
	connected := time.Now() // after both connected: the bound below is the stricter for it
	a.PollEvents()
	b.PollEvents()
	off, ans := offerer(t, a, b)
	// bound is the most probes the offerer may have made by now.
	bound := func() int { return quick + int(time.Since(connected)/slow) }
	const n = 1600 // 5 ms apart: 8 s and more, across the quick probes and slow ones
	for i := range n {
		if err := off.Channel("rel").Send(ans.Local(), binary.BigEndian.AppendUint32(nil, uint32(i))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
		if i%100 == 0 {
			if ps, _ := off.Stats().Peer(ans.Local()); ps.UpgradeProbes > bound() {
				t.Fatalf("%d probes %v after the connect, want at most %d", ps.UpgradeProbes, time.Since(connected), bound())
			}
		}
	}
	for i, msg := range recvN(t, ans.Channel("rel"), n, 20*time.Second) {
		if v := binary.BigEndian.Uint32(msg.Data); v != uint32(i) {
			t.Fatalf("stream message %d arrived as number %d", v, i)
		}
	}
	// Probing goes on past the quick probes: two slow ones at least.
	waitFor(t, 20*time.Second, "two slow probes", func() bool {
		ps, _ := off.Stats().Peer(ans.Local())
		return ps.UpgradeProbes >= quick+2
	})
	// Back on the relay (no pair while a probe runs, every 2 s here).
	waitFor(t, 20*time.Second, "a relayed link on both ends", func() bool {
		for _, pair := range [][2]*Mesh{{off, ans}, {ans, off}} {
			if ps, _ := pair[0].Stats().Peer(pair[1].Local()); !ps.Relayed() {
				return false
			}
		}
		return true
	})
	for _, pair := range [][2]*Mesh{{off, ans}, {ans, off}} {
		ps, _ := pair[0].Stats().Peer(pair[1].Local())
		if pair[0] == off && ps.UpgradeProbes > bound() {
			t.Errorf("offerer: %d probes %v after the connect, want at most %d", ps.UpgradeProbes, time.Since(connected), bound())
		}
		if pair[0] == ans && ps.UpgradeProbes != 0 {
			t.Errorf("answerer: %d probes, want 0", ps.UpgradeProbes)
		}
		for _, ev := range pair[0].PollEvents() {
			t.Errorf("%s: unexpected %v during the probes", pair[0].cfg.Name, ev)
		}
	}
}

// TestVNetRelayUpgradeLate: the direct path opens only after the quick
// probes are spent (a router rebooted, a VPN dropped, a firewall rule
// lifted mid-match); a slow probe (one per UpgradeInterval) finds it and
// both ends go direct. With only the quick probes (UpgradeInterval
// negative, the behaviour before slow probes existed) the link stayed
// relayed.
func TestVNetRelayUpgradeLate(t *testing.T) {
	checkLeaks(t)
	sig := startSignaling(t)
	lab := newVNetLab(t, portRestr, portRestr, impair{}, impair{})
	lab.noDirect.Store(true)
	cfg := func(c *Config) { c.UpgradeProbes, c.UpgradeInterval = 1, 2*time.Second }
	a := join(t, sig.url(), "room", "a", lab.on(lab.netA), cfg)
	b := join(t, sig.url(), "room", "b", lab.on(lab.netB), cfg)
	waitMesh(t, 20*time.Second, a, b)
	off, ans := offerer(t, a, b)
	waitFor(t, 20*time.Second, "the quick probe and a slow one", func() bool {
		ps, _ := off.Stats().Peer(ans.Local())
		return ps.UpgradeProbes >= 2
	})
	// Back on the relay after the probe (no pair while it runs).
	waitFor(t, 20*time.Second, "a relayed link on both ends", func() bool {
		for _, pair := range [][2]*Mesh{{a, b}, {b, a}} {
			if ps, _ := pair[0].Stats().Peer(pair[1].Local()); !ps.Relayed() {
				return false
			}
		}
		return true
	})
	lab.noDirect.Store(false)
	opened := time.Now()
	waitFor(t, 30*time.Second, "a direct link on both ends", func() bool {
		for _, pair := range [][2]*Mesh{{a, b}, {b, a}} {
			if ps, _ := pair[0].Stats().Peer(pair[1].Local()); !ps.Direct() {
				return false
			}
		}
		return true
	})
	ps, _ := off.Stats().Peer(ans.Local())
	t.Logf("direct %v after the path opened, after %d probes", time.Since(opened).Round(time.Millisecond), ps.UpgradeProbes)
	if err := off.Channel("rel").Send(ans.Local(), []byte("direct")); err != nil {
		t.Fatal(err)
	}
	if got := recvN(t, ans.Channel("rel"), 1, 10*time.Second)[0]; string(got.Data) != "direct" {
		t.Errorf("after the upgrade: got %q", got.Data)
	}
}

// TestVNetRelayUpgradeCut: the path is lost just before a probe, so the
// probe's ICE restart finds no pair at all. pion's restarted agents stay
// "checking" (they would fail only after ICEDisconnectedTimeout plus
// ICEFailedTimeout, here 68 s), so without netcode's own bound neither
// side would report the loss for that long; with it both see
// EventDisconnected, and EventConnected once the path is back, on the
// same connection.
func TestVNetRelayUpgradeCut(t *testing.T) {
	checkLeaks(t)
	sig := startSignaling(t)
	lab := newVNetLab(t, portRestr, portRestr, impair{}, impair{})
	lab.noDirect.Store(true)
	// ICE's own disconnect timer (from the cut) must not beat the probe
	// (due 1 s after the connect): 8 s leaves a starved machine's loop
	// room to make it (with 3 s, a probe 3 s late under a CPU hog let
	// pion report the loss first: 0 probes). The probe's own loss report
	// comes the same 8 s after it.
	slow := func(c *Config) { c.ICEDisconnectedTimeout, c.ICEFailedTimeout = 8*time.Second, 60*time.Second }
	a := join(t, sig.url(), "room", "a", lab.on(lab.netA), slow)
	b := join(t, sig.url(), "room", "b", lab.on(lab.netB), slow)
	waitMesh(t, 20*time.Second, a, b)
	lab.cut.Store(true) // the first probe comes 1 s after the connect, ICE would notice after 8 s
	a.PollEvents()
	b.PollEvents()
	la, lb := &eventLog{m: a}, &eventLog{m: b}
	off, ans := offerer(t, a, b)
	for _, l := range []*eventLog{la, lb} {
		waitFor(t, 30*time.Second, "EventDisconnected", func() bool { return l.has(EventDisconnected, other(l.m, a, b).Local()) })
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

// TestVNetRelayUpgradeCost measures what a relay->direct probe that finds
// nothing costs on the wire: a quiet relayed link (no application
// traffic, only netcode's pings and ICE's keepalives) probed every 6 s;
// the UDP bytes and packets LAN A's NAT exchanged with the WAN in the
// 2 s from each probe, less those of the 2 s after (the link's upkeep),
// and the signaling bytes (both peers' WebSockets, TCP payload) of the
// first 2 s less those of the next 2 s. It asserts the probes came on
// time and left the link relayed; the log has the figures for the
// package doc and bench/REPORT.md.
func TestVNetRelayUpgradeCost(t *testing.T) {
	checkLeaks(t)
	var sigBytes atomic.Int64
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &signaling.Server{}
	ts := httptest.NewUnstartedServer(srv)
	ts.Listener = countingListener{l, &sigBytes}
	ts.Start()
	t.Cleanup(func() { _ = srv.Close(); ts.Close() })
	url := "ws://" + l.Addr().String() + "/ws"

	lab := newVNetLab(t, portRestr, portRestr, impair{}, impair{})
	lab.noDirect.Store(true)
	// Probes 6 s apart: the two 2 s windows follow the moment the test
	// sees a probe (polling, late on a starved machine), and the next
	// probe must not fall into them; 4 s left 0.1 s of slack.
	const interval = 6 * time.Second
	cfg := func(c *Config) { c.UpgradeProbes, c.UpgradeInterval = 1, interval }
	a := join(t, url, "room", "a", lab.on(lab.netA), cfg)
	b := join(t, url, "room", "b", lab.on(lab.netB), cfg)
	waitMesh(t, 20*time.Second, a, b)
	off, ans := offerer(t, a, b)
	probes := func() int { ps, _ := off.Stats().Peer(ans.Local()); return ps.UpgradeProbes }
	type sample struct{ bytes, pkts, sig int64 }
	take := func() sample { return sample{lab.wanBytesA.Load(), lab.wanPktsA.Load(), sigBytes.Load()} }
	const runs = 3
	var probe, upkeep sample
	for n := probes(); n < runs+1; {
		// The first probe (1 s after the connect) falls in the join's
		// own traffic: measure from the second on.
		waitFor(t, 20*time.Second, "the next probe", func() bool { return probes() > n })
		n = probes()
		if n == 1 {
			continue
		}
		s0 := take()
		time.Sleep(2 * time.Second)
		s1 := take()
		time.Sleep(1900 * time.Millisecond)
		s2 := take()
		if probes() != n {
			t.Fatalf("probe %d came within 3.9 s of seeing probe %d (UpgradeInterval %v)", probes(), n, interval)
		}
		// Scaled to 2 s: the second window is 1.9 s long.
		probe.bytes, probe.pkts, probe.sig = probe.bytes+s1.bytes-s0.bytes, probe.pkts+s1.pkts-s0.pkts, probe.sig+s1.sig-s0.sig
		upkeep.bytes += (s2.bytes - s1.bytes) * 20 / 19
		upkeep.pkts += (s2.pkts - s1.pkts) * 20 / 19
		upkeep.sig += (s2.sig - s1.sig) * 20 / 19
	}
	for _, pair := range [][2]*Mesh{{a, b}, {b, a}} {
		if ps, _ := pair[0].Stats().Peer(pair[1].Local()); !ps.Relayed() && ps.Link != LinkUnknown {
			t.Errorf("%s: link %v with direct UDP dropped, want relay", pair[0].cfg.Name, ps.Link)
		}
	}
	t.Logf("per probe, mean of %d: UDP at A's NAT %d B in %d packets (upkeep of a quiet relayed link: %d B, %d packets per 2 s); signaling %d B (both peers; upkeep %d B per 2 s)",
		runs, (probe.bytes-upkeep.bytes)/runs, (probe.pkts-upkeep.pkts)/runs, upkeep.bytes/runs, upkeep.pkts/runs,
		(probe.sig-upkeep.sig)/runs, upkeep.sig/runs)
}

// countingListener counts the bytes read and written on its connections.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{c, l.n}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.n.Add(int64(n))
	return n, err
}

func (c countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.n.Add(int64(n))
	return n, err
}
