package lobby

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestAssignSeats(t *testing.T) {
	tests := []struct {
		name      string
		members   []Member
		wantSeats []string
		wantTeams []int
	}{
		{"no preferences: admission order", []Member{{ID: "c"}, {ID: "a"}, {ID: "b"}}, []string{"c", "a", "b"}, []int{0, 0, 0}},
		{"preferences honoured", []Member{{ID: "a"}, {ID: "b", Seat: 1, Team: 2}}, []string{"b", "a"}, []int{2, 0}},
		{"conflict: earlier member wins", []Member{{ID: "a", Seat: 2}, {ID: "b", Seat: 2}, {ID: "c"}}, []string{"b", "a", "c"}, []int{0, 0, 0}},
		{"seat beyond the count is ignored", []Member{{ID: "a", Seat: 9}, {ID: "b"}}, []string{"a", "b"}, []int{0, 0}},
		{"late members are not seated", []Member{{ID: "a"}, {ID: "z", Late: true}, {ID: "b", Seat: 1}}, []string{"b", "a"}, []int{0, 0}},
	}
	for _, tt := range tests {
		seats, teams := assignSeats(tt.members, func(transport.PeerID) bool { return false })
		if !equalIDs(seats, tt.wantSeats) || !reflect.DeepEqual(teams, tt.wantTeams) {
			t.Errorf("%s: got %v %v, want %v %v", tt.name, seats, teams, tt.wantSeats, tt.wantTeams)
		}
	}
}

func TestClaimOrder(t *testing.T) {
	tests := []struct {
		a, b claim
		want bool
	}{
		{claim{3, "z", false}, claim{2, "a", false}, true},
		{claim{2, "a", false}, claim{2, "b", false}, true},
		{claim{2, "b", false}, claim{2, "a", false}, false},
		{claim{2, "a", false}, claim{2, "a", false}, false},
		// A running match's lobby: never left for one without; a lone
		// peer (a restarted player's fresh lobby) joins it whatever the
		// IDs; otherwise size and ID decide.
		{claim{1, "a", false}, claim{1, "z", true}, false},
		{claim{5, "a", false}, claim{1, "z", true}, false},
		{claim{1, "z", true}, claim{1, "a", false}, true},
		{claim{1, "z", true}, claim{2, "a", false}, false},
		{claim{3, "z", true}, claim{2, "a", false}, true},
	}
	for _, tt := range tests {
		if got := tt.a.beats(tt.b); got != tt.want {
			t.Errorf("%+v beats %+v = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestUniqueName(t *testing.T) {
	members := []Member{{ID: "a", Name: "Sam"}, {ID: "b", Name: "sam (2)"}, {ID: "c", Name: "Zoe"}}
	tests := []struct {
		id, want, got string
	}{
		{id: "d", want: "sam", got: "sam (3)"},
		{id: "a", want: "Sam", got: "Sam"},
		{id: "d", want: "Max", got: "Max"},
		{id: "d", want: "ZOE", got: "ZOE (2)"},
	}
	for _, tt := range tests {
		if got := uniqueName(tt.want, transport.PeerID(tt.id), members); got != tt.got {
			t.Errorf("uniqueName(%q) for %s = %q, want %q", tt.want, tt.id, got, tt.got)
		}
	}
	long := "abcdefghijklmnopqrstuvwxyz012345" // 32 runes
	got := uniqueName(long, "x", []Member{{ID: "y", Name: long}})
	if got != "abcdefghijklmnopqrstuvwxyz01 (2)" {
		t.Errorf("long name: %q", got)
	}
}

func TestHashesAreDomainSeparated(t *testing.T) {
	r := &round{term: 1, num: 2, seats: []transport.PeerID{"a", "b"}, teams: []int{0, 1}, settings: Settings{MaxPlayers: 2}}
	d := draftHash(r)
	r2 := *r
	r2.teams = []int{1, 0}
	if draftHash(&r2) == d {
		t.Error("draft hash ignores teams")
	}
	var n [hashSize]byte
	if commitment(d, "a", n) == commitment(d, "b", n) {
		t.Error("commitment ignores the peer")
	}
	r.reveals = map[transport.PeerID][hashSize]byte{"a": {1}, "b": {2}}
	s1 := seed(r)
	r.reveals["b"] = [hashSize]byte{3}
	if seed(r) == s1 {
		t.Error("seed ignores a nonce")
	}
}

func TestConfig(t *testing.T) {
	conn := memnet.New(memnet.Config{}).Join("x").Channel("lobby", transport.Reliable)
	tests := []struct {
		name string
		cfg  Config
	}{
		{"max players", Config{Settings: Settings{MaxPlayers: MaxMembers + 1}}},
		{"settings size", Config{Settings: Settings{Data: make([]byte, MaxSettingsSize+1)}}},
		{"min players", Config{MinPlayers: -1}},
		{"seat", Config{Seat: MaxMembers + 1}},
		{"timeout", Config{StartTimeout: -time.Second}},
		{"team", Config{Team: 1 << 40}},
	}
	for _, tt := range tests {
		if _, err := New(conn, tt.cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: err = %v, want ErrInvalidConfig", tt.name, err)
		}
	}
	if _, err := New(nil, Config{}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("nil conn: %v", err)
	}
	l, err := New(conn, Config{Name: "  bad\x00name\u202e  "})
	if err != nil {
		t.Fatal(err)
	}
	if l.cfg.Name != "badname" || l.cfg.Settings.MaxPlayers != 8 || l.cfg.MinPlayers != 2 || l.cfg.Countdown != 3*time.Second {
		t.Errorf("defaults: %+v", l.cfg)
	}
	if s := l.State(); s.Phase != PhaseDiscovering || s.Joined {
		t.Errorf("fresh state %+v", s)
	}
	l.Close()
	if err := l.SetReady(true); err != ErrClosed {
		t.Errorf("SetReady after Close = %v", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if s := l.State(); s.Phase != PhaseClosed {
		t.Errorf("phase after Close %s", s.Phase)
	}
}

func TestStrings(t *testing.T) {
	if PhaseStarting.String() != "starting" || Phase(99).String() != "unknown(99)" {
		t.Error("Phase.String")
	}
	if EventKicked.String() != "kicked" || EventKind(-1).String() != "unknown(-1)" {
		t.Error("EventKind.String")
	}
	if ReasonKicked.String() != "kicked" || StartReasonBadReveal.String() != "bad reveal" {
		t.Error("Reason.String")
	}
	e := &StartError{Round: 3, Reason: StartReasonTimeout, Peer: "p2"}
	if e.Error() != "lobby: start round 3 failed: timeout (peer p2)" {
		t.Errorf("StartError: %q", e.Error())
	}
}
