package natsbackplane

import (
	"testing"
	"time"

	"github.com/peerplay/peerplay/signaling"
	"github.com/peerplay/peerplay/signaling/natsbackplane/natstest"
	"github.com/peerplay/peerplay/signaling/sigclient"
)

// TestCrossNode: members connected to three different nodes see each other
// join and leave, exchange signals and room updates, and every node lists
// the same rooms.
func TestCrossNode(t *testing.T) {
	ns := natstest.Start(t)
	nodes := []*node{startNode(t, ns.URL(), "n0"), startNode(t, ns.URL(), "n1"), startNode(t, ns.URL(), "n2")}
	waitReady(t, nodes...)

	a := dial(t, nodes[0].wsURL(), "room", sigclient.DialOptions{Name: "alice", GameID: "g"})
	b := dial(t, nodes[1].wsURL(), "room", sigclient.DialOptions{Name: "bob", GameID: "g"})
	if got := expect(t, a, signaling.EventPeerJoined, b.Local()); got.Name != "bob" {
		t.Fatalf("alice saw %q join, want bob", got.Name)
	}
	c := dial(t, nodes[2].wsURL(), "room", sigclient.DialOptions{Name: "carol", GameID: "g"})
	expect(t, a, signaling.EventPeerJoined, c.Local())
	expect(t, b, signaling.EventPeerJoined, c.Local())
	if got, want := c.Peers(), sorted(a.Local(), b.Local()); !equalIDs(got, want) {
		t.Fatalf("carol's welcome lists %v, want %v", got, want)
	}

	// Signals cross nodes, to the right member only.
	if err := a.Signal(c.Local(), []byte("a→c")); err != nil {
		t.Fatal(err)
	}
	if err := c.Signal(b.Local(), []byte("c→b")); err != nil {
		t.Fatal(err)
	}
	if ev := expect(t, c, signaling.EventSignal, a.Local()); string(ev.Data) != "a→c" {
		t.Fatalf("carol got %q", ev.Data)
	}
	if ev := expect(t, b, signaling.EventSignal, c.Local()); string(ev.Data) != "c→b" {
		t.Fatalf("bob got %q", ev.Data)
	}

	// A room update (by the owner, the creator) reaches every member,
	// and every listing.
	if err := a.SetRoomInfo(signaling.RoomMeta{Name: "Bob's", State: "playing"}); err != nil {
		t.Fatal(err)
	}
	for _, cl := range []*sigclient.Client{a, b, c} {
		if ev := expect(t, cl, signaling.EventRoomUpdated, ""); ev.Room.Name != "Bob's" || ev.Room.Players != 3 {
			t.Fatalf("room update %+v", ev.Room)
		}
	}
	want := `[{"room":"room","name":"Bob's","game":"g","players":3,"max":16,"password":false,"state":"playing"}]`
	for _, n := range nodes {
		waitFor(t, 10*time.Second, n.name+"'s listing", func() bool { return listing(t, n) == want })
	}

	// Leaving on one node is seen on the others at once (no grace).
	bob := b.Local()
	_ = b.Close()
	expect(t, a, signaling.EventPeerLeft, bob)
	expect(t, c, signaling.EventPeerLeft, bob)
	want = `[{"room":"room","name":"Bob's","game":"g","players":2,"max":16,"password":false,"state":"playing"}]`
	for _, n := range nodes {
		waitFor(t, 10*time.Second, n.name+"'s listing", func() bool { return listing(t, n) == want })
	}
}
