package natsbackplane

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling"
	"github.com/peerplay/peerplay/signaling/natsbackplane/natstest"
	"github.com/peerplay/peerplay/signaling/sigclient"
)

// expectKicked waits for c to end with ErrKicked.
func expectKicked(t *testing.T, c *sigclient.Client) {
	t.Helper()
	for {
		ev := next(t, c)
		if ev.Err != nil && errors.Is(ev.Err, signaling.ErrKicked) {
			return
		}
		if ev.Kind == signaling.EventFailed {
			t.Fatalf("%s failed with %v, want kicked", c.Local(), ev.Err)
		}
	}
}

// TestKickAcrossNodes: the owner on one node kicks a member on another:
// the member's connection ends with kicked, and its node never puts the
// seat back (a seat missing from the record is otherwise taken for one
// the registry lost, and repaired). Also when the kicked message is lost
// (NATS delivery is at most once): the record alone ends the seat.
func TestKickAcrossNodes(t *testing.T) {
	ns := natstest.Start(t)
	n0, n1 := startNode(t, ns.URL(), "n0"), startNode(t, ns.URL(), "n1")
	waitReady(t, n0, n1)
	a := dial(t, n0.wsURL(), "r", sigclient.DialOptions{Name: "owner"})
	b := dial(t, n1.wsURL(), "r", sigclient.DialOptions{Name: "b"})
	c := dial(t, n1.wsURL(), "r", sigclient.DialOptions{Name: "c"})
	expect(t, a, signaling.EventPeerJoined, b.Local())
	expect(t, a, signaling.EventPeerJoined, c.Local())

	// b through the protocol.
	if err := a.Kick(b.Local()); err != nil {
		t.Fatal(err)
	}
	expectKicked(t, b)
	expect(t, a, signaling.EventPeerLeft, b.Local())

	// c by a record write alone, as if the kicked message were lost.
	owner, kicked := a.Local(), c.Local()
	if _, _, err := n0.bp.reg.update(testCtx(t), "r", func(cur *record) (*record, error) {
		n := cur.clone()
		if err := n.Kick(owner, kicked); err != nil {
			return nil, err
		}
		n.remove(kicked)
		return n, nil
	}); err != nil {
		t.Fatal(err)
	}
	expectKicked(t, c)

	// Several sweeps (refresh, reap, repair every TTL/4) later, neither
	// is back.
	deadline := time.Now().Add(2 * testTTL)
	for time.Now().Before(deadline) {
		for _, n := range []*node{n0, n1} {
			if got := members(t, n, "r"); len(got) != 1 || got[0] != owner {
				t.Fatalf("%s's view of r: %v, want only the owner %s", n.name, got, owner)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	e, err := n0.bp.reg.kvOrNil().Get(testCtx(t), roomKey("r"))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := decodeRecord(e.Value())
	if err != nil {
		t.Fatal(err)
	}
	if _, back := rec.Members[kicked]; back || len(rec.Members) != 1 {
		t.Fatalf("the registry has %v, want the owner only", keys(rec.Members))
	}
	if !strings.Contains(listingOf(t, n1, "r"), `"players":1`) {
		t.Errorf("n1 lists %s", listingOf(t, n1, "r"))
	}
}

func keys(m map[transport.PeerID]member) []transport.PeerID {
	var out []transport.PeerID
	for p := range m {
		out = append(out, p)
	}
	return out
}

// TestRepairKeepsRotatedToken: a room written back from an older copy
// (another node restored it) gives a seat its previous attachment and
// resume token; resume tokens rotate on every resume, so the seat's node
// repairs both, and the member can still resume.
func TestRepairKeepsRotatedToken(t *testing.T) {
	ns := natstest.Start(t)
	n0, n1 := startNode(t, ns.URL(), "n0"), startNode(t, ns.URL(), "n1")
	waitReady(t, n0, n1)
	l := newLB(t, n0.hostport())
	a := dial(t, l.url(), "r", sigclient.DialOptions{Name: "a",
		ReconnectMin: 50 * time.Millisecond, ReconnectMax: 100 * time.Millisecond})
	b := dial(t, n1.wsURL(), "r", sigclient.DialOptions{Name: "b"})
	expect(t, a, signaling.EventPeerJoined, b.Local())
	peer := a.Local()
	seatToken := func() []byte {
		n0.bp.dl.mu.Lock()
		defer n0.bp.dl.mu.Unlock()
		if s := n0.bp.dl.seats[seatKey{"r", peer}]; s != nil {
			return s.token
		}
		return nil
	}

	// The older copy: another attachment and token for a's seat.
	if _, _, err := n1.bp.reg.update(testCtx(t), "r", func(cur *record) (*record, error) {
		n := cur.clone()
		m := n.Members[peer]
		m.Attach, m.Token = 12345, []byte("an older token's hash, 32 bytes")
		n.Members[peer] = m
		return n, nil
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*waitUnit, "n0 to repair a's seat", func() bool {
		e, err := n0.bp.reg.kvOrNil().Get(testCtx(t), roomKey("r"))
		if err != nil {
			return false
		}
		rec, err := decodeRecord(e.Value())
		if err != nil {
			return false
		}
		m := rec.Members[peer]
		return m.Attach != 12345 && string(m.Token) == string(seatToken())
	})

	// a can resume (with the token it holds).
	l.cut()
	expect(t, a, signaling.EventReconnected, "")
	if a.Local() != peer {
		t.Fatalf("a resumed as %s, want %s", a.Local(), peer)
	}
}
