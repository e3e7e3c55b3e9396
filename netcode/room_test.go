//go:build !js

package netcode

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/peerplay/peerplay/signaling"
)

// TestRoomListing: what a member sets with SetRoomInfo shows in the
// signaling server's GET /rooms, and every member hears it (RoomInfo).
// The server dies; meanwhile one member updates the listing and the
// other leaves for good. When the server is back, the listing is whole
// again: restored by the member left (what it set, merged with what it
// heard from the one that left) after re-joining a server that lost the
// room, or kept by a server that shares the old one's rooms.
func TestRoomListing(t *testing.T) {
	tests := []struct {
		name   string
		server func(t *testing.T) func() *signaling.Server
		// players and held seats after the restart: b's seat outlives b
		// for the resume grace period when the rooms are kept, listed as
		// held (#14).
		players, held int
	}{
		{"restart loses the rooms", func(*testing.T) func() *signaling.Server {
			return func() *signaling.Server { return &signaling.Server{ResumeGrace: -1} }
		}, 1, 0},
		{"restart keeps the rooms", sharedBackplane, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLeaks(t)
			sig := startSignalingWith(t, tt.server(t))
			a := join(t, sig.url(), "room", "a")
			b := join(t, sig.url(), "room", "b")
			la := &eventLog{m: a}

			if err := a.SetRoomInfo(RoomMeta{Name: "Friday league", State: "open", Max: 4}); err != nil {
				t.Fatal(err)
			}
			waitListing(t, sig, RoomInfo{Room: "room", Name: "Friday league", Game: "test", Players: 2, Max: 4, State: "open"})
			// Another member cannot change it (only the owner, the
			// creator a, may: #14); a changes part of it; both hear the
			// result.
			if err := b.SetRoomInfo(RoomMeta{State: "hijacked"}); err != nil {
				t.Fatal(err)
			}
			if err := a.SetRoomInfo(RoomMeta{State: "countdown"}); err != nil {
				t.Fatal(err)
			}
			want := RoomInfo{Room: "room", Name: "Friday league", Game: "test", Players: 2, Max: 4, State: "countdown"}
			waitListing(t, sig, want)
			for _, m := range []*Mesh{a, b} {
				waitFor(t, 5*time.Second, m.cfg.Name+" hearing the listing", func() bool { return noOwner(m.RoomInfo()) == want })
			}
			if err := a.SetRoomInfo(RoomMeta{State: strings.Repeat("x", 100)}); !errors.Is(err, signaling.ErrBadRequest) {
				t.Errorf("SetRoomInfo with a 100-byte state: %v, want ErrBadRequest", err)
			}

			sig.kill()
			waitFor(t, 10*time.Second, "EventSignalingLost", func() bool { return la.has(EventSignalingLost, "") })
			if err := a.SetRoomInfo(RoomMeta{Name: "Finals"}); err != nil {
				t.Errorf("SetRoomInfo during the outage: %v", err)
			}
			if err := a.SetRoomInfo(RoomMeta{Name: "bad\x00name"}); !errors.Is(err, signaling.ErrBadRequest) {
				t.Errorf("SetRoomInfo with a control character during the outage: %v, want ErrBadRequest", err)
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}

			sig.restart()
			waitFor(t, 20*time.Second, "EventSignalingRestored", func() bool { return la.has(EventSignalingRestored, "") })
			want = RoomInfo{Room: "room", Name: "Finals", Game: "test", Players: tt.players, Held: tt.held, Max: 4, State: "countdown"}
			waitListing(t, sig, want)
			waitFor(t, 5*time.Second, "a hearing the restored listing", func() bool { return noOwner(a.RoomInfo()) == want })

			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			if err := a.SetRoomInfo(RoomMeta{State: "open"}); !errors.Is(err, ErrClosed) {
				t.Errorf("SetRoomInfo after Close: %v, want ErrClosed", err)
			}
		})
	}
}

// noOwner is r without its owner (members see it; GET /rooms does not).
func noOwner(r RoomInfo) RoomInfo {
	r.Owner = ""
	return r
}

// waitListing polls GET /rooms until the room shows as want.
func waitListing(t *testing.T, sig *sigServer, want RoomInfo) {
	t.Helper()
	var last []RoomInfo
	deadline := time.Now().Add(20 * time.Second)
	for {
		last = listRooms(t, sig)
		for _, r := range last {
			if r == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /rooms = %+v, want %+v", last, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func listRooms(t *testing.T, sig *sigServer) []RoomInfo {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://%s/rooms", sig.addr))
	if err != nil {
		return nil // the server is coming back
	}
	defer resp.Body.Close()
	var body struct{ Rooms []RoomInfo }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("GET /rooms: %v", err)
	}
	return body.Rooms
}
