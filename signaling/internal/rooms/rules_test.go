package rooms

import (
	"errors"
	"testing"
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
			if got := code(tc.m.Admit(tc.req, tc.members)); got != tc.want {
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
	want := Listing{Room: "r", Name: "n", Game: "g", Players: 3, Max: 4, Password: true, State: "s", Private: true}
	if got := m.Listing(3); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}
