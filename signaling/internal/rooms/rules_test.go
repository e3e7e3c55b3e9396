package rooms

import (
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
)

func code(err error) string {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Code
	}
	if err != nil {
		return "other: " + err.Error()
	}
	return ""
}

func TestCreate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		req     Join
		others  int
		want    string
		wantMax int
	}{
		{"unlimited", Join{Room: "r"}, 1000, "", 0},
		{"under the room limit", Join{Room: "r", MaxRooms: 2}, 1, "", 0},
		{"at the room limit", Join{Room: "r", MaxRooms: 2}, 2, CodeTooManyRooms, 0},
		{"max clamped", Join{Room: "r", Max: 9, MaxRoomSize: 4}, 0, "", 4},
		{"max zero means server size", Join{Room: "r", MaxRoomSize: 4}, 0, "", 4},
		{"max kept", Join{Room: "r", Max: 3, MaxRoomSize: 4}, 0, "", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Create(tc.req, tc.others)
			if got := code(err); got != tc.want {
				t.Fatalf("code %q, want %q", got, tc.want)
			}
			if err == nil && m.Max != tc.wantMax {
				t.Fatalf("max %d, want %d", m.Max, tc.wantMax)
			}
		})
	}
}

func TestAdmit(t *testing.T) {
	pw, err := Create(Join{Room: "r", Password: "s3cret", Game: "pong", Max: 2}, 0)
	if err != nil {
		t.Fatal(err)
	}
	open := Meta{Room: "o", Max: 0}
	for _, tc := range []struct {
		name    string
		m       Meta
		req     Join
		members int
		want    string
	}{
		{"right password", pw, Join{Room: "r", Password: "s3cret", Game: "pong"}, 1, ""},
		{"wrong password", pw, Join{Room: "r", Password: "guess", Game: "pong"}, 1, CodeBadPassword},
		{"no password", pw, Join{Room: "r", Game: "pong"}, 1, CodeBadPassword},
		{"password checked before size", pw, Join{Room: "r", Password: "guess"}, 2, CodeBadPassword},
		{"wrong game", pw, Join{Room: "r", Password: "s3cret", Game: "chess"}, 1, CodeWrongGame},
		{"any game", pw, Join{Room: "r", Password: "s3cret"}, 1, ""},
		{"full", pw, Join{Room: "r", Password: "s3cret"}, 2, CodeRoomFull},
		{"unlimited room", open, Join{Room: "o", Game: "x"}, 500, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := code(tc.m.Admit(tc.req, tc.members, time.Unix(1000, 0))); got != tc.want {
				t.Fatalf("code %q, want %q", got, tc.want)
			}
		})
	}
}

func TestApply(t *testing.T) {
	base := Meta{Room: "r", Name: "n", Game: "g", State: "s", Max: 4}
	for _, tc := range []struct {
		name string
		u    Update
		size int
		want Meta
	}{
		{"empty keeps all", Update{}, 8, base},
		{"name", Update{Name: "m"}, 8, Meta{Room: "r", Name: "m", Game: "g", State: "s", Max: 4}},
		{"game and state", Update{Game: "h", State: "t"}, 8, Meta{Room: "r", Name: "n", Game: "h", State: "t", Max: 4}},
		{"max", Update{Max: 6}, 8, Meta{Room: "r", Name: "n", Game: "g", State: "s", Max: 6}},
		{"max clamped", Update{Max: 60}, 8, Meta{Room: "r", Name: "n", Game: "g", State: "s", Max: 8}},
		{"max unlimited server", Update{Max: 60}, 0, Meta{Room: "r", Name: "n", Game: "g", State: "s", Max: 60}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := base
			m.Apply(tc.u, tc.size)
			if m.Room != tc.want.Room || m.Name != tc.want.Name || m.Game != tc.want.Game || m.State != tc.want.State || m.Max != tc.want.Max {
				t.Fatalf("got %+v, want %+v", m, tc.want)
			}
		})
	}
}

func TestTokens(t *testing.T) {
	tok, h := NewToken()
	tok2, _ := NewToken()
	if tok == tok2 || len(tok) != 22 {
		t.Fatalf("tokens %q %q", tok, tok2)
	}
	if !TokenMatches(h, tok) || TokenMatches(h, tok2) || TokenMatches(nil, tok) || TokenMatches(h, "") {
		t.Fatal("TokenMatches wrong")
	}
	if id := NewPeerID(); len(id) != 16 || id == NewPeerID() {
		t.Fatalf("peer id %q", id)
	}
}

func TestListing(t *testing.T) {
	m := Meta{Room: "r", Name: "n", Game: "g", Max: 4, State: "s", Private: true, Hash: []byte{1}}
	want := Listing{Room: "r", Name: "n", Game: "g", Players: 3, Held: 1, Max: 4, Password: true, State: "s", Private: true}
	if got := m.Listing(3, 1); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

// TestJoinTokenSingleUse: a join token takes one seat until it expires.
func TestJoinTokenSingleUse(t *testing.T) {
	now := time.Unix(1000, 0)
	req := Join{Room: "r", TokenID: "t1", TokenExpiry: now.Add(time.Minute)}
	m, err := Create(req, 0)
	if err != nil {
		t.Fatal(err)
	}
	m.Seat(req, "a", now)
	for _, tc := range []struct {
		name string
		req  Join
		at   time.Time
		want string
	}{
		{"same token again", req, now.Add(time.Second), CodeBadToken},
		{"another token", Join{Room: "r", TokenID: "t2", TokenExpiry: now.Add(time.Minute)}, now, ""},
		{"no token", Join{Room: "r"}, now, ""},
		{"same token after its expiry", req, now.Add(2 * time.Minute), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := code(m.Admit(tc.req, 1, tc.at)); got != tc.want {
				t.Fatalf("code %q, want %q", got, tc.want)
			}
		})
	}
	for i := range 2 * MaxUsedTokens {
		m.Seat(Join{TokenID: string(rune('a' + i%26)), TokenExpiry: now.Add(time.Hour)}, "x", now)
	}
	if len(m.Used) > MaxUsedTokens {
		t.Fatalf("%d used tokens kept, bound %d", len(m.Used), MaxUsedTokens)
	}
}

// TestOwnership: the creator owns the room; only the owner updates and
// kicks; ownership passes to the oldest remaining member.
func TestOwnership(t *testing.T) {
	now := time.Unix(1000, 0)
	m, _ := Create(Join{Room: "r"}, 0)
	seats := map[transport.PeerID]uint64{}
	for _, p := range []transport.PeerID{"alice", "bob", "carol", "dave"} {
		seats[p] = m.Seat(Join{Room: "r"}, p, now)
	}
	if m.Owner != "alice" {
		t.Fatalf("owner %q, want the creator", m.Owner)
	}
	if got := code(m.Update("bob", Update{Name: "x"}, 0)); got != CodeNotOwner {
		t.Fatalf("non-owner update: %q", got)
	}
	if m.Name != "" {
		t.Fatal("a refused update changed the room")
	}
	if err := m.Update("alice", Update{Name: "x"}, 0); err != nil || m.Name != "x" {
		t.Fatalf("owner update: %v %q", err, m.Name)
	}
	if got := code(m.Kick("bob", "carol")); got != CodeNotOwner {
		t.Fatalf("non-owner kick: %q", got)
	}
	if got := code(m.Kick("alice", "alice")); got != CodeBadRequest {
		t.Fatalf("self kick: %q", got)
	}
	if err := m.Kick("alice", "carol"); err != nil || !m.IsKicked("carol") {
		t.Fatalf("kick: %v", err)
	}
	if got := code(m.Resume("carol")); got != CodeResumeFailed {
		t.Fatalf("kicked resume: %q", got)
	}
	if got := code(m.Unkick("bob", "carol")); got != CodeNotOwner {
		t.Fatalf("non-owner unkick: %q", got)
	}
	if err := m.Unkick("alice", "carol"); err != nil || m.IsKicked("carol") {
		t.Fatalf("unkick: %v", err)
	}
	delete(seats, "carol")
	m.Left("carol", maps.All(seats)) // not the owner: nothing changes
	if m.Owner != "alice" {
		t.Fatalf("owner %q after a member left", m.Owner)
	}
	delete(seats, "alice")
	m.Left("alice", maps.All(seats))
	if m.Owner != "bob" {
		t.Fatalf("owner %q, want bob (the oldest remaining)", m.Owner)
	}
	delete(seats, "bob")
	m.Left("bob", maps.All(seats))
	if m.Owner != "dave" {
		t.Fatalf("owner %q, want dave", m.Owner)
	}
	delete(seats, "dave")
	m.Left("dave", maps.All(seats))
	if m.Owner != "" {
		t.Fatalf("owner %q of an empty room", m.Owner)
	}
	for i := range MaxKicked + 1 {
		m.Owner = "o"
		err := m.Kick("o", transport.PeerID(fmt.Sprint("p", i)))
		if i == MaxKicked && code(err) != CodeBadRequest {
			t.Fatalf("kick beyond the bound: %v", err)
		}
	}
}

func TestCreateNoCreate(t *testing.T) {
	if _, err := Create(Join{Room: "r", NoCreate: true}, 0); code(err) != CodeTooManyRooms {
		t.Fatalf("NoCreate: %v", err)
	}
}
