package natsbackplane

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/peerplay/peerplay/netcode"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling"
	"github.com/peerplay/peerplay/signaling/natsbackplane/natstest"
	"github.com/peerplay/peerplay/signaling/sigclient"
)

var meshChannels = []netcode.ChannelSpec{
	{Label: "rel", Reliability: transport.Reliable},
	{Label: "unrel", Reliability: transport.Unreliable},
}

// loopbackOnly keeps pion on 127.0.0.1, UDP4, without mDNS.
func loopbackOnly(se *webrtc.SettingEngine) {
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
}

func joinMesh(t *testing.T, url, room, name string) *netcode.Mesh {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m, err := netcode.Join(ctx, netcode.Config{
		SignalURL: url, Room: room, Name: name, GameID: "test", Build: "1",
		Channels: meshChannels, SettingEngine: loopbackOnly, Logger: testLogger(t, name),
	})
	if err != nil {
		t.Fatalf("netcode.Join %s: %v", name, err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func waitMesh(t *testing.T, meshes ...*netcode.Mesh) {
	t.Helper()
	waitFor(t, 30*waitUnit, "a full mesh", func() bool {
		for _, m := range meshes {
			if len(m.Peers()) != len(meshes)-1 {
				return false
			}
		}
		return true
	})
}

// exchange sends one message on each channel from every mesh to every
// other and checks that all of them arrive.
func exchange(t *testing.T, tag string, meshes ...*netcode.Mesh) {
	t.Helper()
	for _, label := range []string{"rel", "unrel"} {
		for _, m := range meshes {
			for _, o := range meshes {
				if o != m {
					if err := m.Channel(label).Send(o.Local(), []byte(tag+"|"+string(m.Local()))); err != nil {
						t.Fatalf("%s: Send: %v", tag, err)
					}
				}
			}
		}
		for _, m := range meshes {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			var got []string
			for len(got) < len(meshes)-1 {
				msg, err := m.Channel(label).Recv(ctx)
				if err != nil {
					cancel()
					t.Fatalf("%s on %s: %s got %v, then %v", tag, label, m.Local(), got, err)
				}
				if s := string(msg.Data); len(s) > len(tag) && s[:len(tag)] == tag {
					got = append(got, s)
				}
			}
			cancel()
		}
	}
}

// eventLog accumulates a mesh's events across polls.
type eventLog struct {
	m      *netcode.Mesh
	mu     sync.Mutex
	events []netcode.Event
}

func (l *eventLog) all() []netcode.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, l.m.PollEvents()...)
	return slices.Clone(l.events)
}

func (l *eventLog) has(k netcode.EventKind) bool {
	return slices.ContainsFunc(l.all(), func(e netcode.Event) bool { return e.Kind == k })
}

func members(t *testing.T, n *node, room string) []transport.PeerID {
	t.Helper()
	n.bp.reg.mu.Lock()
	defer n.bp.reg.mu.Unlock()
	c := n.bp.reg.rooms[room]
	if c == nil {
		return nil
	}
	var out []transport.PeerID
	for p := range c.rec.Members {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// TestNodeCrash: three peers spread over three signald nodes behind a
// round-robin load balancer form one WebRTC mesh. One node crashes
// mid-session: its client reconnects through the load balancer to another
// node and resumes its seat (same signaling ID, membership kept), data
// between the peers never stops, and the crashed node's own entries (its
// heartbeat, a room only it held, a seat whose client never came back)
// vanish within about the TTL. A newcomer then joins the same mesh.
func TestNodeCrash(t *testing.T) {
	ns := natstest.Start(t)
	nodes := []*node{startNode(t, ns.URL(), "n0"), startNode(t, ns.URL(), "n1"), startNode(t, ns.URL(), "n2")}
	waitReady(t, nodes...)
	lb := newLB(t, nodes[0].hostport(), nodes[1].hostport(), nodes[2].hostport())

	// One peer per node (the load balancer rotates).
	var meshes []*netcode.Mesh
	var logs []*eventLog
	for i := range 3 {
		m := joinMesh(t, lb.url(), "mesh", fmt.Sprint("p", i))
		meshes = append(meshes, m)
		logs = append(logs, &eventLog{m: m})
	}
	waitMesh(t, meshes...)
	exchange(t, "before", meshes...)
	for i, n := range nodes {
		if got := n.srv.Stats().Members; got != 1 {
			t.Fatalf("node %d serves %d members, want 1 (round robin)", i, got)
		}
	}
	seats := members(t, nodes[0], "mesh")
	if len(seats) != 3 {
		t.Fatalf("registry lists %v in room mesh", seats)
	}

	// Entries only the crashing node holds: a room of its own, and a seat
	// in a shared room whose client will not come back (it dialed n1
	// directly).
	solo := dial(t, nodes[1].wsURL(), "solo", sigclient.DialOptions{ReconnectMin: 50 * time.Millisecond, ReconnectMax: 50 * time.Millisecond})
	watcher := dial(t, nodes[0].wsURL(), "mixed", sigclient.DialOptions{})
	ghost := dial(t, nodes[1].wsURL(), "mixed", sigclient.DialOptions{ReconnectMin: 50 * time.Millisecond, ReconnectMax: 50 * time.Millisecond})
	expect(t, watcher, signaling.EventPeerJoined, ghost.Local())
	_ = solo

	// Keep data flowing between all peers while n1 dies.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var sendErrs sync.Map
	for _, m := range meshes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk := time.NewTicker(20 * time.Millisecond)
			defer tk.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tk.C:
				}
				if err := m.Channel("rel").Broadcast([]byte("tick")); err != nil {
					sendErrs.Store(m.Local(), err)
				}
			}
		}()
	}

	killed := time.Now()
	nodes[1].kill()
	t.Logf("n1 killed")

	// p1 (on n1) loses signaling and gets it back through another node,
	// resuming its seat.
	waitFor(t, 30*waitUnit, "p1 to lose signaling", func() bool { return logs[1].has(netcode.EventSignalingLost) })
	waitFor(t, 30*waitUnit, "p1 to get signaling back", func() bool { return logs[1].has(netcode.EventSignalingRestored) })
	t.Logf("p1 resumed on another node after %v", time.Since(killed))
	if got := nodes[0].srv.Stats().Resumes + nodes[2].srv.Stats().Resumes; got != 1 {
		t.Errorf("%d resumes on the surviving nodes, want 1", got)
	}
	if got := members(t, nodes[0], "mesh"); !slices.Equal(got, seats) {
		t.Errorf("room mesh has %v after the crash, want the same seats %v", got, seats)
	}
	exchange(t, "after", meshes...)

	// The dead node's entries vanish by themselves.
	for _, n := range []*node{nodes[0], nodes[2]} {
		waitFor(t, 6*testTTL+5*waitUnit, n.name+" to stop listing room solo", func() bool { return listingOf(t, n, "solo") == "null" })
	}
	t.Logf("room solo gone %v after the crash (TTL %v)", time.Since(killed), testTTL)
	left := expect(t, watcher, signaling.EventPeerLeft, ghost.Local())
	_ = left
	t.Logf("ghost seat reaped %v after the crash", time.Since(killed))
	waitFor(t, 6*testTTL, "n1's heartbeat to expire", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := nodes[0].bp.reg.kvOrNil().Get(ctx, nodeKey("n1"))
		return err != nil
	})
	// Each node's listing follows the registry through its watch: wait for
	// it (once, under a CPU hog, n2 still listed the ghost right after the
	// reap).
	const mixedAfter = `[{"room":"mixed","players":1,"max":16,"password":false}]`
	for _, n := range []*node{nodes[0], nodes[2]} {
		waitFor(t, 30*waitUnit, n.name+" to list mixed as "+mixedAfter, func() bool { return listingOf(t, n, "mixed") == mixedAfter })
	}

	close(stop)
	wg.Wait()
	sendErrs.Range(func(k, v any) bool {
		t.Errorf("%v: send failed during the crash: %v", k, v)
		return true
	})
	// The mesh was untouched: no peer was lost, left or failed.
	for i, l := range logs {
		for _, e := range l.all() {
			if e.Peer != "" && (e.Kind == netcode.EventDisconnected || e.Kind == netcode.EventFailed || e.Kind == netcode.EventLeft) {
				t.Errorf("p%d: %v", i, e)
			}
		}
	}

	// Signaling works cluster-wide: a newcomer joins the mesh.
	late := joinMesh(t, lb.url(), "mesh", "late")
	meshes = append(meshes, late)
	waitMesh(t, meshes...)
	exchange(t, "late", meshes...)
}
