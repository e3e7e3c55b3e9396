package natsbackplane

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/peerplay/peerplay/signaling"
	"github.com/peerplay/peerplay/signaling/natsbackplane/natstest"
	"github.com/peerplay/peerplay/signaling/sigclient"
)

// TestNATSOutage: NATS goes away and comes back (same port and store).
// Meanwhile every node reports unavailable with a clear error, refuses
// joins and listings with unavailable, and keeps its clients connected.
// Afterwards membership
// is intact and new members join, for an outage shorter than the TTL, for
// one longer than it (NATS then expires the whole registry, and the nodes
// put their live seats back), and for a NATS that lost its store (a
// bucket in memory: the nodes create it again and put their seats back).
func TestNATSOutage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		outage time.Duration
		memory bool
	}{
		{"short", 0, false},
		{"longer than the TTL", 2 * testTTL, false},
		{"store lost", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns := natstest.Start(t)
			memory := func(c *Config, _ *signaling.Server) { c.MemoryStorage = tc.memory }
			n0, n1 := startNode(t, ns.URL(), "n0", memory), startNode(t, ns.URL(), "n1", memory)
			waitReady(t, n0, n1)
			a := dial(t, n0.wsURL(), "r", sigclient.DialOptions{Name: "a"})
			b := dial(t, n1.wsURL(), "r", sigclient.DialOptions{Name: "b"})
			expect(t, a, signaling.EventPeerJoined, b.Local())

			ns.Kill()
			for _, n := range []*node{n0, n1} {
				waitFor(t, 10*waitUnit, n.name+" to report NATS unavailable", func() bool { return n.bp.Health().State == StateUnavailable })
				h := n.bp.Health()
				if msg := h.Err.Error(); !strings.Contains(msg, "not connected to NATS") || !strings.Contains(msg, strings.TrimPrefix(ns.URL(), "nats://")) {
					t.Errorf("%s: health error %q does not say which NATS is unreachable", n.name, msg)
				}
				code, body := get(t, n.ts.URL+"/rooms")
				if code != http.StatusServiceUnavailable || !strings.Contains(body, `"code":"unavailable"`) {
					t.Errorf("%s: /rooms during the outage: %d %s", n.name, code, body)
				}
			}
			if _, err := sigclient.Dial(testCtx(t), n0.wsURL(), "r", sigclient.DialOptions{}); !errors.Is(err, signaling.ErrUnavailable) {
				t.Errorf("join during the outage: %v, want ErrUnavailable", err)
			}
			time.Sleep(tc.outage) // let the registry's entries outlive the TTL
			ns.Restart()
			waitReady(t, n0, n1)

			// Signals flow again, both ways.
			if err := a.Signal(b.Local(), []byte("after")); err != nil {
				t.Fatal(err)
			}
			if ev := expect(t, b, signaling.EventSignal, a.Local()); string(ev.Data) != "after" {
				t.Errorf("b got %q", ev.Data)
			}
			if err := b.Signal(a.Local(), []byte("after")); err != nil {
				t.Fatal(err)
			}
			expect(t, a, signaling.EventSignal, b.Local())
			c := dial(t, n1.wsURL(), "r", sigclient.DialOptions{Name: "c"})
			if got, want := c.Peers(), sorted(a.Local(), b.Local()); !equalIDs(got, want) {
				t.Fatalf("after the outage the newcomer sees %v, want %v", got, want)
			}
			expect(t, a, signaling.EventPeerJoined, c.Local())
			expect(t, b, signaling.EventPeerJoined, c.Local())
			want := `[{"room":"r","players":3,"max":16,"password":false}]`
			for _, n := range []*node{n0, n1} {
				waitFor(t, 10*waitUnit, n.name+"'s listing", func() bool { return listing(t, n) == want })
			}
			// Nobody was dropped: a and b never saw a Disconnected or
			// PeerLeft.
			for _, cl := range []*sigclient.Client{a, b} {
				for {
					select {
					case ev := <-cl.Events():
						if ev.Kind == signaling.EventDisconnected || ev.Kind == signaling.EventPeerLeft || ev.Kind == signaling.EventFailed {
							t.Errorf("%s: %v %v", cl.Local(), ev.Kind, ev.Err)
						}
						continue
					default:
					}
					break
				}
			}
			t.Logf("repaired seats: n0 %d, n1 %d", n0.bp.Stats().Repaired, n1.bp.Stats().Repaired)
		})
	}
}

// TestNATSUnavailableAtStart: a node whose NATS is not there yet starts
// anyway, says why it is unavailable, refuses joins with unavailable, and
// serves once NATS comes up.
func TestNATSUnavailableAtStart(t *testing.T) {
	ns := natstest.Reserve(t)
	n0 := startNode(t, ns.URL(), "n0")
	waitFor(t, 10*waitUnit, "a connection error", func() bool {
		h := n0.bp.Health()
		return h.State == StateUnavailable && strings.Contains(h.Err.Error(), "refused")
	})
	t.Logf("health: %v: %v", n0.bp.Health().State, n0.bp.Health().Err)
	if _, err := sigclient.Dial(testCtx(t), n0.wsURL(), "r", sigclient.DialOptions{}); !errors.Is(err, signaling.ErrUnavailable) {
		t.Fatalf("join without NATS: %v, want ErrUnavailable", err)
	}
	ns.Restart()
	waitReady(t, n0)
	a := dial(t, n0.wsURL(), "r", sigclient.DialOptions{})
	if len(a.Peers()) != 0 {
		t.Fatalf("peers %v", a.Peers())
	}
}

// TestResumeElsewhere: a client loses its connection to n0 and resumes on
// n1 while n0 lives: n0 hands over the signals it held for the seat.
func TestResumeElsewhere(t *testing.T) {
	ns := natstest.Start(t)
	n0, n1 := startNode(t, ns.URL(), "n0"), startNode(t, ns.URL(), "n1")
	waitReady(t, n0, n1)
	l := newLB(t, n0.hostport())
	a := dial(t, l.url(), "r", sigclient.DialOptions{Name: "a", ReconnectMin: 50 * time.Millisecond, ReconnectMax: 100 * time.Millisecond})
	b := dial(t, n1.wsURL(), "r", sigclient.DialOptions{Name: "b"})
	expect(t, a, signaling.EventPeerJoined, b.Local())

	l.setBackends("127.0.0.1:1") // reconnects fail until we say
	l.cut()
	expect(t, a, signaling.EventDisconnected, "")
	waitFor(t, 10*waitUnit, "n0 to hold the seat", func() bool { return n0.bp.Stats().HeldSeats == 1 })
	if err := b.Signal(a.Local(), []byte("held")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*waitUnit, "n0 to hold the signal", func() bool {
		n0.bp.dl.mu.Lock()
		defer n0.bp.dl.mu.Unlock()
		s := n0.bp.dl.seats[seatKey{"r", a.Local()}]
		return s != nil && len(s.held) == 1
	})
	l.setBackends(n1.hostport())
	expect(t, a, signaling.EventReconnected, "")
	if ev := expect(t, a, signaling.EventSignal, b.Local()); string(ev.Data) != "held" {
		t.Fatalf("a got %q", ev.Data)
	}
	if got := n1.bp.Stats().Takeovers; got != 1 {
		t.Errorf("n1 took over %d seats, want 1", got)
	}
	waitFor(t, 10*waitUnit, "n0 to forget the seat", func() bool { return n0.bp.Stats().Seats == 0 })
	// The seat works from its new node, both ways.
	if err := a.Signal(b.Local(), []byte("from n1")); err != nil {
		t.Fatal(err)
	}
	expect(t, b, signaling.EventSignal, a.Local())
	if err := b.Signal(a.Local(), []byte("to n1")); err != nil {
		t.Fatal(err)
	}
	expect(t, a, signaling.EventSignal, b.Local())
}

// TestShutdownHandsOver: a node shut down gracefully hands its seats to
// the registry: a client that comes back elsewhere resumes its seat; one
// that does not is removed when its grace period ends, by another node.
func TestShutdownHandsOver(t *testing.T) {
	ns := natstest.Start(t)
	grace := func(_ *Config, s *signaling.Server) { s.ResumeGrace = 3 * time.Second }
	n0, n1 := startNode(t, ns.URL(), "n0", grace), startNode(t, ns.URL(), "n1", grace)
	waitReady(t, n0, n1)
	l := newLB(t, n0.hostport(), n1.hostport())
	a := dial(t, l.url(), "r", sigclient.DialOptions{Name: "a", ReconnectMin: 50 * time.Millisecond, ReconnectMax: 100 * time.Millisecond})
	if n0.srv.Stats().Members != 1 {
		t.Fatal("a is not on n0")
	}
	b := dial(t, n1.wsURL(), "r", sigclient.DialOptions{Name: "b"})
	gone := dial(t, n0.wsURL(), "r", sigclient.DialOptions{Name: "gone", ReconnectMin: 50 * time.Millisecond, ReconnectMax: 50 * time.Millisecond})
	expect(t, b, signaling.EventPeerJoined, gone.Local())

	l.setBackends(n1.hostport())
	n0.close()
	// n0 handed its seats over: orphans (no node) held until their grace
	// ends.
	e, err := n1.bp.reg.kvOrNil().Get(testCtx(t), roomKey("r"))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := decodeRecord(e.Value())
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := rec.Members[gone.Local()]; !ok || m.Node != "" || m.HeldUntil <= time.Now().UnixMilli() {
		t.Errorf("after n0's shutdown the registry has %+v (listed: %v) for its seat, want an orphan held for the grace", m, ok)
	}
	if ev := expect(t, a, signaling.EventDisconnected, ""); !errors.Is(ev.Err, signaling.ErrShutdown) {
		t.Errorf("a disconnected with %v, want ErrShutdown", ev.Err)
	}
	expect(t, a, signaling.EventReconnected, "")
	// gone never comes back: n1 removes its orphaned seat after the grace.
	ev := expect(t, b, signaling.EventPeerLeft, "")
	if ev.Peer != gone.Local() {
		t.Fatalf("b saw %s leave, want %s (a resumed)", ev.Peer, gone.Local())
	}
	if err := b.Signal(a.Local(), []byte("still here")); err != nil {
		t.Fatal(err)
	}
	expect(t, a, signaling.EventSignal, b.Local())
}

func get(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestNoJetStream: a NATS without JetStream leaves the node degraded, with
// an error that says what to check, and joins refused with unavailable.
func TestNoJetStream(t *testing.T) {
	ns := natstest.StartCore(t)
	n0 := startNode(t, ns.URL(), "n0")
	waitFor(t, 10*waitUnit, "the node to report degraded", func() bool { return n0.bp.Health().State == StateDegraded })
	if msg := n0.bp.Health().Err.Error(); !strings.Contains(msg, "JetStream") {
		t.Errorf("health error %q does not mention JetStream", msg)
	}
	t.Logf("health: degraded: %v", n0.bp.Health().Err)
	if _, err := sigclient.Dial(testCtx(t), n0.wsURL(), "r", sigclient.DialOptions{}); !errors.Is(err, signaling.ErrUnavailable) {
		t.Fatalf("join without JetStream: %v, want ErrUnavailable", err)
	}
}
