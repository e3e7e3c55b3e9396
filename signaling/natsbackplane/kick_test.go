package natsbackplane

import (
	"errors"
	"strings"
	"sync"
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

// TestKickBeatsOwnRequest: a member's request (a room update, a kick)
// that its node handles after the owner's kick was written, but before
// that node applied the kick (its watch and the kicked message lag: a CPU
// hog made TestRoomRulesAcrossNodes see this), fails with kicked, not
// replaced: the Server ends the connection with the first reason it
// learns, and the member was kicked. The lag is made certain here by
// stopping the member node's watch and its seat's subscription.
func TestKickBeatsOwnRequest(t *testing.T) {
	ns := natstest.Start(t)
	n0, n1 := startNode(t, ns.URL(), "n0"), startNode(t, ns.URL(), "n1")
	waitReady(t, n0, n1)
	ctx := testCtx(t)
	host, err := n0.bp.Join(ctx, signaling.JoinRequest{Room: "r", Name: "host"}, func(signaling.Event) {})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var ended []error
	member, err := n1.bp.Join(ctx, signaling.JoinRequest{Room: "r", Name: "griefer"}, func(ev signaling.Event) {
		if ev.Err != nil {
			mu.Lock()
			ended = append(ended, ev.Err)
			mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// n1 stops learning about r: no watch, no seat messages.
	n1.bp.reg.unready()
	n1.bp.dl.mu.Lock()
	_ = n1.bp.dl.seats[seatKey{"r", member.Peer}].sub.Unsubscribe()
	n1.bp.dl.mu.Unlock()

	if err := n0.bp.Kick(ctx, host.Attachment, member.Peer); err != nil {
		t.Fatal(err)
	}
	if _, err := n1.bp.UpdateRoom(ctx, member.Attachment, signaling.RoomMeta{Name: "spam"}, 0); !errors.Is(err, signaling.ErrKicked) {
		t.Errorf("the kicked member's room update: %v, want kicked", err)
	}
	if err := n1.bp.Kick(ctx, member.Attachment, host.Peer); !errors.Is(err, signaling.ErrKicked) {
		t.Errorf("the kicked member's kick: %v, want kicked", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(ended) != 0 {
		t.Fatalf("n1 learned %v about the seat; the test meant it to lag", ended)
	}
}

// TestKickBeatsOwnRequestServer: TestKickBeatsOwnRequest through the
// Server: the member's connection ends with kicked, counted as such, and
// its seat is let go at once (not held for a resume that cannot come).
func TestKickBeatsOwnRequestServer(t *testing.T) {
	ns := natstest.Start(t)
	n0, n1 := startNode(t, ns.URL(), "n0"), startNode(t, ns.URL(), "n1")
	waitReady(t, n0, n1)
	host := dial(t, n0.wsURL(), "r", sigclient.DialOptions{Name: "host"})
	griefer := dial(t, n1.wsURL(), "r", sigclient.DialOptions{Name: "griefer"})
	expect(t, host, signaling.EventPeerJoined, griefer.Local())
	k := seatKey{"r", griefer.Local()}
	n1.bp.reg.unready()
	n1.bp.dl.mu.Lock()
	_ = n1.bp.dl.seats[k].sub.Unsubscribe()
	n1.bp.dl.mu.Unlock()

	if err := host.Kick(griefer.Local()); err != nil {
		t.Fatal(err)
	}
	expect(t, host, signaling.EventPeerLeft, griefer.Local())
	if err := griefer.SetRoomInfo(signaling.RoomMeta{Name: "spam"}); err != nil {
		t.Fatal(err)
	}
	expectKicked(t, griefer)
	if got := n1.srv.Stats().Refusals[signaling.RefuseKicked]; got != 1 {
		t.Errorf("n1 counted %d kicked refusals, want 1", got)
	}
	waitFor(t, 30*time.Second, "n1 to let the kicked seat go", func() bool { return !n1.bp.dl.known(k) })
}
