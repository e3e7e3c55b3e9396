package natsbackplane

import (
	"errors"
	"testing"
	"time"

	"github.com/peerplay/peerplay/signaling"
	"github.com/peerplay/peerplay/signaling/natsbackplane/natstest"
	"github.com/peerplay/peerplay/signaling/sigclient"
)

// TestRoomRulesAcrossNodes: the #14 room rules hold cluster-wide (they
// are the same rules as MemoryBackplane's, package internal/rooms): a
// member on another node cannot rewrite the listing; the owner kicks a
// member held by another node, which is out at once with kicked; the
// owner's leave passes ownership to the oldest remaining member.
func TestRoomRulesAcrossNodes(t *testing.T) {
	ns := natstest.Start(t)
	nodes := []*node{startNode(t, ns.URL(), "n0"), startNode(t, ns.URL(), "n1")}
	waitReady(t, nodes...)
	host := dial(t, nodes[0].wsURL(), "room", sigclient.DialOptions{Name: "host", GameID: "g"})
	griefer := dial(t, nodes[1].wsURL(), "room", sigclient.DialOptions{Name: "griefer", GameID: "g"})
	expect(t, host, signaling.EventPeerJoined, griefer.Local())
	friend := dial(t, nodes[1].wsURL(), "room", sigclient.DialOptions{Name: "friend", GameID: "g"})
	expect(t, host, signaling.EventPeerJoined, friend.Local())
	expect(t, griefer, signaling.EventPeerJoined, friend.Local())

	if err := griefer.SetRoomInfo(signaling.RoomMeta{Name: "spam", Game: "chess"}); err != nil {
		t.Fatal(err)
	}
	if err := griefer.Kick(host.Local()); err != nil {
		t.Fatal(err)
	}
	if err := host.SetRoomInfo(signaling.RoomMeta{State: "lobby"}); err != nil {
		t.Fatal(err)
	}
	ev := expect(t, host, signaling.EventRoomUpdated, "")
	if ev.Room.Name != "" || ev.Room.Game != "g" || ev.Room.State != "lobby" || ev.Room.Owner != host.Local() {
		t.Fatalf("room after a non-owner's update: %+v", ev.Room)
	}

	if err := host.Kick(griefer.Local()); err != nil {
		t.Fatal(err)
	}
	expect(t, host, signaling.EventPeerLeft, griefer.Local())
	deadline := time.Now().Add(30 * time.Second)
	for {
		ev := next(t, griefer)
		if ev.Kind == signaling.EventFailed {
			if !errors.Is(ev.Err, signaling.ErrKicked) {
				t.Fatalf("griefer failed with %v, want kicked", ev.Err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("griefer not kicked")
		}
	}

	// The host leaves: the friend (the oldest remaining) owns the room.
	_ = host.Close()
	for {
		ev := next(t, friend)
		if ev.Kind == signaling.EventRoomUpdated && ev.Room.Owner == friend.Local() {
			break
		}
		if ev.Kind == signaling.EventPeerLeft && ev.Peer == host.Local() {
			// The owner change comes with the next update the friend makes.
			if err := friend.SetRoomInfo(signaling.RoomMeta{State: "mine"}); err != nil {
				t.Fatal(err)
			}
		}
	}
}
