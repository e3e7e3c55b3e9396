//go:build !js

package netcode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"
)

// A virtual network (pion/transport vnet): a WAN with a STUN/TURN server
// at 1.2.3.4, LAN A (192.168.0.0/24) behind NAT 27.1.1.1 and LAN B
// (10.0.0.0/24) behind NAT 28.1.1.1. Signaling stays on real loopback
// WebSockets; only pion's ICE traffic runs on the vnet.
type vnetLab struct {
	wan        *vnet.Router
	netA, netB *vnet.Net
	delays     []*vnet.DelayFilter
	turn       *turn.Server
	ice        []ICEServer
	cut        atomic.Bool // drop every packet to or from LAN A
	noSCTP     atomic.Bool // drop DTLS application data (SCTP) on the WAN
	noDirect   atomic.Bool // drop UDP between the two NATs (TURN still relays)
	noSCTPToB  atomic.Bool // drop DTLS application data (SCTP) to LAN B
	// wanBytesA and wanPktsA count the UDP payload bytes (plus 28 for
	// the IPv4 and UDP headers) and packets that crossed the WAN to or
	// from LAN A (upgrade_test.go's cost figures).
	wanBytesA, wanPktsA atomic.Int64
}

var (
	fullCone  = &vnet.NATType{MappingBehavior: vnet.EndpointIndependent, FilteringBehavior: vnet.EndpointIndependent}
	portRestr = &vnet.NATType{MappingBehavior: vnet.EndpointIndependent, FilteringBehavior: vnet.EndpointAddrPortDependent}
	symmetric = &vnet.NATType{MappingBehavior: vnet.EndpointAddrPortDependent, FilteringBehavior: vnet.EndpointAddrPortDependent}
)

const turnSecret = "vnet-secret"

// dtlsApplicationData is the DTLS record content type that carries SCTP
// (RFC 6347): dropping it lets ICE and the DTLS handshake through but no
// SCTP packet.
const dtlsApplicationData = 23

type impair struct {
	lossPct int           // inbound loss, percent
	delay   time.Duration // inbound one-way delay
}

func newVNetLab(t *testing.T, natA, natB *vnet.NATType, impA, impB impair) *vnetLab {
	t.Helper()
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelError
	lab := &vnetLab{}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var err error
	lab.wan, err = vnet.NewRouter(&vnet.RouterConfig{CIDR: "0.0.0.0/0", LoggerFactory: lf})
	must(err)
	wanNet, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{"1.2.3.4"}})
	must(err)
	must(lab.wan.AddNet(wanNet))
	lab.wan.AddChunkFilter(func(c vnet.Chunk) bool {
		// While cut, LAN A is off the WAN (signaling, on real loopback,
		// still works).
		if lab.noSCTP.Load() && c.Network() == "udp" && len(c.UserData()) > 0 && c.UserData()[0] == dtlsApplicationData {
			return false
		}
		if lab.noSCTPToB.Load() && c.Network() == "udp" && isLANB(c.DestinationAddr()) && len(c.UserData()) > 0 && c.UserData()[0] == dtlsApplicationData {
			return false
		}
		if lab.noDirect.Load() && (isLANA(c.SourceAddr()) && isLANB(c.DestinationAddr()) || isLANB(c.SourceAddr()) && isLANA(c.DestinationAddr())) {
			return false
		}
		pass := !lab.cut.Load() || !isLANA(c.SourceAddr()) && !isLANA(c.DestinationAddr())
		if pass && c.Network() == "udp" && (isLANA(c.SourceAddr()) || isLANA(c.DestinationAddr())) {
			lab.wanBytesA.Add(int64(len(c.UserData()) + 28))
			lab.wanPktsA.Add(1)
		}
		return pass
	})
	lan := func(cidr, public, host string, nat *vnet.NATType, imp impair, seed int64) *vnet.Net {
		r, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: cidr, StaticIPs: []string{public}, NATType: nat, LoggerFactory: lf})
		must(err)
		n, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{host}})
		must(err)
		must(r.AddNet(n))
		var nic vnet.NIC = r
		if imp.lossPct > 0 {
			nic, err = vnet.NewLossFilter(nic, imp.lossPct, vnet.WithLossSeed(seed))
			must(err)
		}
		if imp.delay > 0 {
			d, err := vnet.NewDelayFilter(nic, vnet.WithDelay(imp.delay))
			must(err)
			lab.delays = append(lab.delays, d)
			nic = d
		}
		if nic == vnet.NIC(r) {
			must(lab.wan.AddRouter(r))
		} else {
			must(lab.wan.AddNet(nic))
			must(lab.wan.AddChildRouter(r))
		}
		return n
	}
	lab.netA = lan("192.168.0.0/24", "27.1.1.1", "192.168.0.2", natA, impA, 42)
	lab.netB = lan("10.0.0.0/24", "28.1.1.1", "10.0.0.2", natB, impB, 43)
	must(lab.wan.Start())

	pc, err := wanNet.ListenPacket("udp4", "1.2.3.4:3478")
	must(err)
	lab.turn, err = turn.NewServer(turn.ServerConfig{
		Realm:       "peerplay",
		AuthHandler: turn.LongTermTURNRESTAuthHandler(turnSecret, lf.NewLogger("turn")),
		PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: pc, RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{
			RelayAddress: net.ParseIP("1.2.3.4"), Address: "0.0.0.0", Net: wanNet}}},
		LoggerFactory: lf,
	})
	must(err)
	user, pass, err := turn.GenerateLongTermTURNRESTCredentials(turnSecret, "player", time.Hour)
	must(err)
	lab.ice = []ICEServer{
		{URLs: []string{"stun:1.2.3.4:3478"}},
		{URLs: []string{"turn:1.2.3.4:3478?transport=udp"}, Username: user, Credential: pass},
	}
	// Runs after the meshes' cleanups (registered later): the order the
	// notes prescribe, router before delay filters.
	t.Cleanup(func() {
		_ = lab.turn.Close()
		_ = lab.wan.Stop()
		// Router.Stop does not wait for a routing pass in progress, and a
		// DelayFilter that is already closed blocks such a pass forever
		// (an unbuffered send in onInboundChunk), which goleak then
		// reports: let the passes finish first.
		time.Sleep(100 * time.Millisecond)
		for _, d := range lab.delays {
			_ = d.Close()
		}
	})
	return lab
}

func isLANA(a net.Addr) bool {
	u, ok := a.(*net.UDPAddr)
	return ok && u.IP.Equal(net.IPv4(27, 1, 1, 1))
}

func isLANB(a net.Addr) bool {
	u, ok := a.(*net.UDPAddr)
	return ok && u.IP.Equal(net.IPv4(28, 1, 1, 1))
}

// on puts a mesh's pion on one of the lab's LANs.
func (lab *vnetLab) on(n *vnet.Net) meshOpt {
	return func(c *Config) {
		c.ICEServers = lab.ice
		c.SettingEngine = func(se *webrtc.SettingEngine) {
			se.SetNet(n)
			se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
			se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
		}
	}
}

// TestVNetNAT: behind endpoint-independent NATs the peers end up
// connected directly through STUN-learned (or peer-reflexive) addresses
// (at once, or after a relay->direct probe on a starved machine); behind
// symmetric NATs only via the TURN relay.
func TestVNetNAT(t *testing.T) {
	tests := []struct {
		name       string
		natA, natB *vnet.NATType
		want       []LinkType
		class      LinkClass
	}{
		// pion gathers srflx candidates on sockets of their own, so the pair
		// that wins is usually the host socket punched through the NAT,
		// which the far end learns as peer-reflexive: either type means
		// "direct through NAT".
		{"full cone", fullCone, fullCone, []LinkType{LinkSrflx, LinkPrflx}, LinkDirect},
		{"port restricted", portRestr, portRestr, []LinkType{LinkSrflx, LinkPrflx}, LinkDirect},
		{"symmetric", symmetric, symmetric, []LinkType{LinkRelay}, LinkRelayed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := startSignaling(t)
			lab := newVNetLab(t, tt.natA, tt.natB, impair{}, impair{})
			a := join(t, sig.url(), "room", "a", lab.on(lab.netA))
			b := join(t, sig.url(), "room", "b", lab.on(lab.netB))
			start := time.Now()
			waitMesh(t, 20*time.Second, a, b)
			t.Logf("connected in %v", time.Since(start))
			for _, pair := range [][2]*Mesh{{a, b}, {b, a}} {
				// The promise is where the link ends, not the first pair:
				// through endpoint-independent NATs pion usually selects
				// a direct pair first, but on a starved machine the relay
				// pair can validate before it (fast ICE accepts a relay
				// pair 200 ms after it works) and the relay->direct
				// probes (upgrade.go: ICE restarts 1, 3, 7, 15 and 31 s
				// into a relayed link) move it to the direct path, which
				// took ~1.5 s under a CPU hog. So each end must show a
				// wanted link within 45 s; a link that stays relayed
				// still fails. Through symmetric NATs a relay is all
				// there is.
				first, _ := pair[0].Stats().Peer(pair[1].Local())
				var ps PeerStats
				inWant := func() bool {
					ps, _ = pair[0].Stats().Peer(pair[1].Local())
					for _, w := range tt.want {
						if ps.Link == w {
							return true
						}
					}
					return false
				}
				deadline := time.Now().Add(45 * time.Second)
				for !inWant() && time.Now().Before(deadline) {
					time.Sleep(50 * time.Millisecond)
				}
				t.Logf("%s: link %v (local %v, remote %v), first %v", pair[0].cfg.Name, ps.Link, ps.LocalCandidate, ps.RemoteCandidate, first.Link)
				if !inWant() {
					t.Errorf("%s: link type %v 45 s after connecting (first %v), want one of %v", pair[0].cfg.Name, ps.Link, first.Link, tt.want)
				}
				if c := ps.Link.Class(); c != tt.class || ps.Direct() != (c == LinkDirect) || ps.Relayed() != (c == LinkRelayed) {
					t.Errorf("%s: class %v (Direct %v, Relayed %v), want %v", pair[0].cfg.Name, c, ps.Direct(), ps.Relayed(), tt.class)
				}
				if err := pair[0].Channel("rel").Send(pair[1].Local(), []byte("x")); err != nil {
					t.Fatal(err)
				}
				recvN(t, pair[1].Channel("rel"), 1, 5*time.Second)
			}
		})
	}
}

// TestVNetLossDelay: with 10 % loss and 20 ms delay each way the Reliable
// channel stays exact, and the Unreliable channel really drops (the
// regression test for pion/datachannel < v1.6.4, which made negotiated
// channels reliable and ordered).
func TestVNetLossDelay(t *testing.T) {
	sig := startSignaling(t)
	imp := impair{lossPct: 10, delay: 20 * time.Millisecond}
	lab := newVNetLab(t, fullCone, fullCone, imp, imp)
	a := join(t, sig.url(), "room", "a", lab.on(lab.netA))
	b := join(t, sig.url(), "room", "b", lab.on(lab.netB))
	// One attempt can lose its SCTP handshake (TestVNetSCTPHandshakeLost):
	// it then fails after ConnectTimeout (15 s) and is retried 2.5 s later.
	waitMesh(t, 45*time.Second, a, b)

	// Reliable: 200 small messages and one of 256 KiB, exact and in order.
	const n = 200
	big := bytes.Repeat([]byte("0123456789abcdef"), 16<<10)
	for i := range n {
		msg := binary.BigEndian.AppendUint32(nil, uint32(i))
		if err := a.Channel("rel").Send(b.Local(), msg); err != nil {
			t.Fatal(err)
		}
		if i == n/2 {
			if err := a.Channel("rel").Send(b.Local(), big); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	got := recvN(t, b.Channel("rel"), n+1, 30*time.Second)
	seq := 0
	for _, m := range got {
		if len(m.Data) == len(big) {
			if !bytes.Equal(m.Data, big) || seq != n/2+1 {
				t.Errorf("big message corrupted or out of place (after %d)", seq)
			}
			continue
		}
		if v := binary.BigEndian.Uint32(m.Data); v != uint32(seq) {
			t.Fatalf("reliable message %d arrived as %d", v, seq)
		}
		seq++
	}

	// Unreliable: some of 300 datagrams are lost, most arrive.
	const sent = 300
	for i := range sent {
		if err := a.Channel("unrel").Send(b.Local(), binary.BigEndian.AppendUint32(nil, uint32(i))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // longer than any retransmission would take
	received := 0
	for _, ok := b.Channel("unrel").TryRecv(); ok; _, ok = b.Channel("unrel").TryRecv() {
		received++
	}
	t.Logf("unreliable: %d of %d datagrams arrived with 10%% loss", received, sent)
	if received >= sent || received < sent/2 {
		t.Errorf("unreliable channel delivered %d of %d; want some lost (it must not retransmit) and most delivered", received, sent)
	}
	ps, _ := a.Stats().Peer(b.Local())
	t.Logf("RTT with 2×20 ms delay: median %v jitter %v", ps.RTT, ps.RTTJitter)
	if ps.RTT < 40*time.Millisecond {
		t.Errorf("RTT %v below the 40 ms the link imposes", ps.RTT)
	}
}

// TestVNetSCTPHandshakeLost: ICE and DTLS connect but every SCTP packet
// is lost, so pion's SCTP handshake gives up (it retransmits INIT and
// COOKIE ECHO 8 times) and the PeerConnection stays "connected" with no
// data channel. That is a transport failure, not a refusal: both sides
// report EventFailed after ConnectTimeout and the offering side retries,
// so the mesh forms once SCTP gets through. (Under 10 % loss this
// happened in TestVNetLossDelay, vnet loss seed 26 under CPU load: the
// peers were refused with "handshake timeout (no hello)" and never
// retried.)
func TestVNetSCTPHandshakeLost(t *testing.T) {
	sig := startSignaling(t)
	lab := newVNetLab(t, fullCone, fullCone, impair{}, impair{})
	lab.noSCTP.Store(true)
	fast := func(c *Config) { c.ConnectTimeout = 4 * time.Second }
	a := join(t, sig.url(), "room", "a", lab.on(lab.netA), fast)
	b := join(t, sig.url(), "room", "b", lab.on(lab.netB), fast)
	la, lb := &eventLog{m: a}, &eventLog{m: b}
	for _, l := range []*eventLog{la, lb} {
		waitFor(t, 15*time.Second, "EventFailed or EventRefused", func() bool {
			o := other(l.m, a, b).Local()
			return l.has(EventFailed, o) || l.has(EventRefused, o)
		})
		if ev, ok := l.find(EventRefused, other(l.m, a, b).Local()); ok {
			t.Fatalf("%s: lost SCTP handshake reported as %v, want EventFailed", l.m.cfg.Name, ev)
		}
		// Its own connect timeout, or the other side's: whichever fires
		// first closes the attempt for both.
		if ev, _ := l.find(EventFailed, other(l.m, a, b).Local()); !strings.Contains(ev.Err.Error(), "no connection within") &&
			!strings.Contains(ev.Err.Error(), "closed the connection before the handshake") {
			t.Errorf("%s: failure %v, want a connect timeout", l.m.cfg.Name, ev.Err)
		}
	}
	lab.noSCTP.Store(false)
	waitMesh(t, 20*time.Second, a, b)
	if err := a.Channel("rel").Send(b.Local(), []byte("x")); err != nil {
		t.Fatal(err)
	}
	if got := recvN(t, b.Channel("rel"), 1, 5*time.Second)[0]; string(got.Data) != "x" {
		t.Errorf("got %q", got.Data)
	}
}

// TestVNetRefusalLost: the refusal of a bad handshake reaches the
// refused peer even if its packet is lost: the refusing side waits for
// the Refuse frame's acknowledgement (SCTP retransmits it after its 1 s
// RTO) before closing the connection, which drops what SCTP has not
// delivered. Before, it closed 30 ms after the write, and the refused
// peer never learned why (EventLeft or EventFailed, and offers its
// refuser ignores): on a starved machine, where SCTP had not even sent
// the frame within 30 ms, TestHostileHandshake failed that way. Here every
// SCTP packet to the bad peer is dropped for 500 ms from the moment it
// sends its Hello, the refusal included.
func TestVNetRefusalLost(t *testing.T) {
	sig := startSignaling(t)
	lab := newVNetLab(t, fullCone, fullCone, impair{}, impair{})
	honest := join(t, sig.url(), "room", "honest", lab.on(lab.netA))
	bad := join(t, sig.url(), "room", "bad", lab.on(lab.netB), func(c *Config) {
		c.testHello = func(h []byte) []byte {
			lab.noSCTPToB.Store(true)
			time.AfterFunc(500*time.Millisecond, func() { lab.noSCTPToB.Store(false) })
			return h[:len(h)-3]
		}
	})
	lh, lb := &eventLog{m: honest}, &eventLog{m: bad}
	waitFor(t, 30*time.Second, "the honest peer's refusal", func() bool { return lh.has(EventRefused, bad.Local()) })
	var re *RefusedError
	waitFor(t, 30*time.Second, "the bad peer to hear it", func() bool {
		for _, ev := range lb.poll() {
			if ev.Peer != honest.Local() {
				continue
			}
			switch ev.Kind {
			case EventRefused:
				return true
			case EventLeft, EventFailed:
				t.Fatalf("the bad peer saw %v, want the refusal", ev)
			}
		}
		return false
	})
	if ev, _ := lb.find(EventRefused, honest.Local()); !errors.As(ev.Err, &re) || !re.ByRemote || re.Reason != "bad handshake" {
		t.Errorf("the bad peer's refusal: %v, want a remote bad handshake refusal", ev.Err)
	}
}

// offerer returns which of a and b makes the offers (lower signaling ID).
func offerer(t *testing.T, a, b *Mesh) (off, ans *Mesh) {
	if seatOf(t, a) < seatOf(t, b) {
		return a, b
	}
	return b, a
}

// TestVNetICERestart cuts the path between two connected peers: both see
// EventDisconnected, the offering side restarts ICE, and when the path
// returns both see EventConnected and traffic flows on the same
// connection. A cut longer than PeerTimeout fails the peer (EventFailed);
// the offering side keeps retrying while the peer stays in the room, and
// a fresh connection forms once the path is back.
func TestVNetICERestart(t *testing.T) {
	sig := startSignaling(t)
	lab := newVNetLab(t, fullCone, fullCone, impair{}, impair{})
	fast := func(c *Config) {
		c.ICEDisconnectedTimeout, c.ICEFailedTimeout = time.Second, 2*time.Second
		c.PeerTimeout = 5 * time.Second
		c.ConnectTimeout = 3 * time.Second
	}
	a := join(t, sig.url(), "room", "a", lab.on(lab.netA), fast)
	b := join(t, sig.url(), "room", "b", lab.on(lab.netB), fast)
	waitMesh(t, 20*time.Second, a, b)
	off, ans := offerer(t, a, b)
	lo, la := &eventLog{m: off}, &eventLog{m: ans}

	// A short cut: ICE restart, recovery.
	lab.cut.Store(true)
	for _, l := range []*eventLog{lo, la} {
		waitFor(t, 10*time.Second, "EventDisconnected", func() bool {
			return l.has(EventDisconnected, other(l.m, a, b).Local())
		})
	}
	waitFor(t, 10*time.Second, "an ICE restart", func() bool {
		ps, _ := off.Stats().Peer(ans.Local())
		return ps.ICERestarts > 0
	})
	lab.cut.Store(false)
	for _, l := range []*eventLog{lo, la} {
		waitFor(t, 15*time.Second, "EventConnected again", func() bool {
			n := 0
			for _, ev := range l.poll() {
				if ev.Kind == EventConnected {
					n++
				}
			}
			return n == 2
		})
	}
	if err := off.Channel("rel").Send(ans.Local(), []byte("back")); err != nil {
		t.Fatal(err)
	}
	if got := recvN(t, ans.Channel("rel"), 1, 10*time.Second)[0]; string(got.Data) != "back" {
		t.Errorf("after the restart: got %q", got.Data)
	}
	for _, ev := range append(lo.poll(), la.poll()...) {
		if ev.Kind == EventFailed || ev.Kind == EventLeft {
			t.Errorf("unexpected %v during a short cut", ev)
		}
	}

	// A long cut: the peer fails, and comes back as a new connection.
	lab.cut.Store(true)
	for _, l := range []*eventLog{lo, la} {
		waitFor(t, 20*time.Second, "EventFailed", func() bool { return l.has(EventFailed, other(l.m, a, b).Local()) })
	}
	if len(off.Peers()) != 0 || len(ans.Peers()) != 0 {
		t.Errorf("failed peer still in Peers: %v, %v", off.Peers(), ans.Peers())
	}
	lab.cut.Store(false)
	waitMesh(t, 20*time.Second, a, b)
	if err := ans.Channel("unrel").Send(off.Local(), []byte("again")); err != nil {
		t.Fatal(err)
	}
	if got := recvN(t, off.Channel("unrel"), 1, 10*time.Second)[0]; string(got.Data) != "again" {
		t.Errorf("after reconnecting: got %q", got.Data)
	}
}

func other(m, a, b *Mesh) *Mesh {
	if m == a {
		return b
	}
	return a
}

// TestVNetCrashedPeer: a peer that vanishes without a goodbye (its
// signaling connection drops and its network goes) is reported as left
// once ICE loses it, without waiting for PeerTimeout.
func TestVNetCrashedPeer(t *testing.T) {
	checkLeaks(t)
	sig := startSignaling(t)
	lab := newVNetLab(t, fullCone, fullCone, impair{}, impair{})
	fast := func(c *Config) { c.ICEDisconnectedTimeout, c.ICEFailedTimeout = time.Second, 2*time.Second }
	a := join(t, sig.url(), "room", "a", lab.on(lab.netA), fast)
	b := join(t, sig.url(), "room", "b", lab.on(lab.netB), fast)
	waitMesh(t, 20*time.Second, a, b)
	lb := &eventLog{m: b}
	// a "crashes": it leaves signaling (as a dead process's socket would)
	// and its network is cut; it never says bye.
	done := make(chan struct{})
	a.post(func() {
		old := a.sig
		a.sig, a.sigEvents = nil, nil
		a.wg.Go(func() { _ = old.Close() })
		close(done)
	})
	<-done
	lab.cut.Store(true)
	start := time.Now()
	waitFor(t, 10*time.Second, "EventLeft", func() bool { return lb.has(EventLeft, a.Local()) })
	t.Logf("crashed peer reported left after %v", time.Since(start))
	if lb.has(EventFailed, a.Local()) {
		t.Error("crashed peer reported as failed, want left")
	}
	if len(b.Peers()) != 0 {
		t.Errorf("b.Peers() = %v", b.Peers())
	}
}
