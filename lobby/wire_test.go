package lobby

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"reflect"
	"strings"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/peerplay/peerplay/internal/meshtest"
	"github.com/peerplay/peerplay/lobby/internal/lobbyfb"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.txt")

func h32(b byte) []byte { return bytes.Repeat([]byte{b}, hashSize) }

// samples holds one message of every kind, with every field set.
var samples = []struct {
	name string
	typ  lobbyfb.Body
	v    any
}{
	{"hello", lobbyfb.BodyHello, &lobbyfb.HelloT{Name: "alice", Team: 2, Seat: 1, Ready: true, Round: 9}},
	{"snapshot", lobbyfb.BodySnapshot, &lobbyfb.SnapshotT{
		Term: 3, Version: 17, Phase: lobbyfb.PhaseCountdown, CountdownMs: 2500, Round: 4, MaxPlayers: 8,
		Settings: []byte("map=dunes"),
		Members: []*lobbyfb.MemberT{
			{Id: "p0", Name: "sam", Team: 1, Seat: 0, Ready: true},
			{Id: "p1", Name: "sam (2)", Requested: "sam", Team: 2, Seat: 2, Late: true},
		},
		Banned: []string{"p9"},
	}},
	{"reject", lobbyfb.BodyReject, &lobbyfb.RejectT{Reason: lobbyfb.RejectReasonNotHost, Host: "p0"}},
	{"leave", lobbyfb.BodyLeave, &lobbyfb.LeaveT{}},
	{"propose", lobbyfb.BodyPropose, &lobbyfb.ProposeT{
		Term: 3, Round: 5, Seats: []string{"p1", "p0"}, Teams: []int32{2, 1}, MaxPlayers: 8, Settings: []byte{1, 2},
	}},
	{"commit", lobbyfb.BodyCommit, &lobbyfb.CommitT{Term: 3, Round: 5, Draft: h32(0xd1), Commitment: h32(0xc0)}},
	{"reveal", lobbyfb.BodyReveal, &lobbyfb.RevealT{Term: 3, Round: 5, Nonce: h32(0x42)}},
	{"confirm", lobbyfb.BodyConfirm, &lobbyfb.ConfirmT{Term: 3, Round: 5, Match: h32(0x3a)}},
	{"launch", lobbyfb.BodyLaunch, &lobbyfb.LaunchT{Term: 3, Round: 5, Match: h32(0x3a), Nonces: append(h32(0x42), h32(0x43)...)}},
	{"seal", lobbyfb.BodySeal, &lobbyfb.SealT{Term: 3, Round: 5, Seal: h32(0x5e)}},
	{"abort", lobbyfb.BodyAbort, &lobbyfb.AbortT{Term: 3, Round: 5, Reason: lobbyfb.AbortReasonBadReveal, Peer: "p1"}},
	{"hello-running", lobbyfb.BodyHello, &lobbyfb.HelloT{Name: "bob", Watch: true, Join: true, MatchTerm: 3, MatchRound: 5}},
	{"running", lobbyfb.BodyRunning, &lobbyfb.RunningT{
		Term: 3, Round: 5, Seats: []string{"p1", "p0", "p5"}, Teams: []int32{2, 1, 0}, OpenFrom: 2, Seed: 0x1234,
		MaxPlayers: 8, Settings: []byte{1, 2}, Role: lobbyfb.RunningRoleWatch, Seat: -1, Source: "p1", Witnesses: []string{"p0"},
	}},
}

func encodeSample(typ lobbyfb.Body, v any) []byte {
	var e encoder
	return bytes.Clone(e.encode(typ, v))
}

// TestGolden pins the bytes of every message kind: a change to the schema,
// to flatc or to the runtime that alters the wire shows up here.
func TestGolden(t *testing.T) {
	var wires []meshtest.Wire
	for _, s := range samples {
		wires = append(wires, meshtest.Wire{Name: s.name, Bytes: encodeSample(s.typ, s.v)})
	}
	meshtest.Golden(t, "testdata/golden.txt", *update, wires)
}

func TestRoundTrip(t *testing.T) {
	for _, s := range samples {
		b, err := decode(encodeSample(s.typ, s.v))
		if err != nil {
			t.Errorf("%s: %v", s.name, err)
			continue
		}
		if b.Type != s.typ || !reflect.DeepEqual(b.Value, s.v) {
			t.Errorf("%s: got %s %+v, want %+v", s.name, b.Type, b.Value, s.v)
		}
	}
}

// envelope builds an envelope by hand, for messages the encoder would not
// produce.
func envelope(version byte, typ lobbyfb.Body, v any, id string) []byte {
	b := flatbuffers.NewBuilder(64)
	env := lobbyfb.EnvelopeT{Version: version, Body: &lobbyfb.BodyT{Type: typ, Value: v}}
	b.FinishWithFileIdentifier(env.Pack(b), []byte(id))
	return b.FinishedBytes()
}

func TestDecodeRejects(t *testing.T) {
	many := make([]string, MaxMembers+1)
	for i := range many {
		many[i] = fmt.Sprintf("p%d", i)
	}
	valid := encodeSample(lobbyfb.BodyHello, &lobbyfb.HelloT{Name: "a"})
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"short", valid[:8], ErrMalformed},
		{"huge", make([]byte, MaxMessageSize+1), ErrMalformed},
		{"identifier", envelope(wireVersion, lobbyfb.BodyLeave, &lobbyfb.LeaveT{}, "XXXX"), ErrMalformed},
		{"version 1", envelope(1, lobbyfb.BodyLeave, &lobbyfb.LeaveT{}, fileID), ErrVersion},
		{"version 0", envelope(0, lobbyfb.BodyLeave, &lobbyfb.LeaveT{}, fileID), ErrVersion},
		{"no body", envelope(wireVersion, lobbyfb.BodyNONE, nil, fileID), ErrMalformed},
		{"root offset", append([]byte{0xff, 0xff, 0, 0}, valid[4:]...), ErrMalformed},
		{"truncated", valid[:len(valid)/2], ErrMalformed},
		{"long name", envelope(wireVersion, lobbyfb.BodyHello, &lobbyfb.HelloT{Name: strings.Repeat("x", maxWireName+1)}, fileID), ErrMalformed},
		{"seat", envelope(wireVersion, lobbyfb.BodyHello, &lobbyfb.HelloT{Seat: MaxMembers + 1}, fileID), ErrMalformed},
		{"negative seat", envelope(wireVersion, lobbyfb.BodyHello, &lobbyfb.HelloT{Seat: -1}, fileID), ErrMalformed},
		{"no members", envelope(wireVersion, lobbyfb.BodySnapshot, &lobbyfb.SnapshotT{Phase: lobbyfb.PhaseOpen, MaxPlayers: 2}, fileID), ErrMalformed},
		{"phase", envelope(wireVersion, lobbyfb.BodySnapshot, &lobbyfb.SnapshotT{Phase: 9, MaxPlayers: 2,
			Members: []*lobbyfb.MemberT{{Id: "a"}}}, fileID), ErrMalformed},
		{"duplicate member", envelope(wireVersion, lobbyfb.BodySnapshot, &lobbyfb.SnapshotT{Phase: 1, MaxPlayers: 2,
			Members: []*lobbyfb.MemberT{{Id: "a"}, {Id: "a"}}}, fileID), ErrMalformed},
		{"empty id", envelope(wireVersion, lobbyfb.BodySnapshot, &lobbyfb.SnapshotT{Phase: 1, MaxPlayers: 2,
			Members: []*lobbyfb.MemberT{{Id: ""}}}, fileID), ErrMalformed},
		{"too many banned", envelope(wireVersion, lobbyfb.BodySnapshot, &lobbyfb.SnapshotT{Phase: 1, MaxPlayers: 2,
			Members: []*lobbyfb.MemberT{{Id: "a"}}, Banned: many}, fileID), ErrMalformed},
		{"running seat", envelope(wireVersion, lobbyfb.BodyRunning, &lobbyfb.RunningT{Seats: []string{"a"}, Teams: []int32{0},
			MaxPlayers: 2, Role: lobbyfb.RunningRoleRejoin, Seat: 1}, fileID), ErrMalformed},
		{"running open", envelope(wireVersion, lobbyfb.BodyRunning, &lobbyfb.RunningT{Seats: []string{"a"}, Teams: []int32{0},
			MaxPlayers: 2, Role: lobbyfb.RunningRoleRejoin, OpenFrom: 2}, fileID), ErrMalformed},
		{"running role", envelope(wireVersion, lobbyfb.BodyRunning, &lobbyfb.RunningT{Seats: []string{"a"}, Teams: []int32{0},
			MaxPlayers: 2, Role: 9}, fileID), ErrMalformed},
		{"running no source", envelope(wireVersion, lobbyfb.BodyRunning, &lobbyfb.RunningT{Seats: []string{"a"}, Teams: []int32{0},
			MaxPlayers: 2, Role: lobbyfb.RunningRoleWatch}, fileID), ErrMalformed},
		{"running too many seats", envelope(wireVersion, lobbyfb.BodyRunning, &lobbyfb.RunningT{Seats: many, Teams: make([]int32, len(many)),
			MaxPlayers: 2, Role: lobbyfb.RunningRoleRejoin}, fileID), ErrMalformed},
		{"propose open seats", envelope(wireVersion, lobbyfb.BodyPropose, &lobbyfb.ProposeT{Seats: []string{"a"}, Teams: []int32{0},
			MaxPlayers: 2, OpenSeats: MaxMembers}, fileID), ErrMalformed},
		{"max players", envelope(wireVersion, lobbyfb.BodySnapshot, &lobbyfb.SnapshotT{Phase: 1, MaxPlayers: MaxMembers + 1,
			Members: []*lobbyfb.MemberT{{Id: "a"}}}, fileID), ErrMalformed},
		{"too many seats", envelope(wireVersion, lobbyfb.BodyPropose, &lobbyfb.ProposeT{MaxPlayers: 2, Seats: many,
			Teams: make([]int32, len(many))}, fileID), ErrMalformed},
		{"teams mismatch", envelope(wireVersion, lobbyfb.BodyPropose, &lobbyfb.ProposeT{MaxPlayers: 2, Seats: []string{"a"}}, fileID), ErrMalformed},
		{"short nonce", envelope(wireVersion, lobbyfb.BodyReveal, &lobbyfb.RevealT{Nonce: []byte{1}}, fileID), ErrMalformed},
		{"short hash", envelope(wireVersion, lobbyfb.BodyLaunch, &lobbyfb.LaunchT{Match: []byte{1}, Nonces: h32(1)}, fileID), ErrMalformed},
		{"no nonces", envelope(wireVersion, lobbyfb.BodyLaunch, &lobbyfb.LaunchT{Match: h32(1)}, fileID), ErrMalformed},
		{"ragged nonces", envelope(wireVersion, lobbyfb.BodyLaunch, &lobbyfb.LaunchT{Match: h32(1), Nonces: h32(1)[1:]}, fileID), ErrMalformed},
		{"short seal", envelope(wireVersion, lobbyfb.BodySeal, &lobbyfb.SealT{Seal: []byte{1}}, fileID), ErrMalformed},
		{"reject reason", envelope(wireVersion, lobbyfb.BodyReject, &lobbyfb.RejectT{Reason: 77}, fileID), ErrMalformed},
		{"abort reason", envelope(wireVersion, lobbyfb.BodyAbort, &lobbyfb.AbortT{Reason: 0}, fileID), ErrMalformed},
		{"unknown union member", func() []byte {
			b := envelope(wireVersion, lobbyfb.BodyLeave, &lobbyfb.LeaveT{}, fileID)
			var env lobbyfb.Envelope
			env.Init(b, flatbuffers.GetUOffsetT(b))
			env.MutateBodyType(99)
			return b
		}(), ErrMalformed},
	}
	for _, tt := range tests {
		if _, err := decode(tt.data); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

// A vector length field claiming billions of elements must be refused
// before the object API allocates for it.
func TestDecodeHugeCount(t *testing.T) {
	b := envelope(wireVersion, lobbyfb.BodySnapshot, &lobbyfb.SnapshotT{Phase: 1, MaxPlayers: 2,
		Members: []*lobbyfb.MemberT{{Id: "a"}}, Banned: []string{"x"}}, fileID)
	// Find the banned vector's length (1) followed by its one offset and
	// make it huge.
	var env lobbyfb.Envelope
	env.Init(b, flatbuffers.GetUOffsetT(b))
	var tab flatbuffers.Table
	env.Body(&tab)
	var s lobbyfb.Snapshot
	s.Init(tab.Bytes, tab.Pos)
	st := s.Table()
	o := flatbuffers.UOffsetT(st.Offset(20)) // banned is field 8: vtable offset 4+2*8
	if o == 0 {
		t.Fatal("banned vector not found")
	}
	vec := st.Vector(o) - 4 // the length precedes the elements
	flatbuffers.WriteUint32(b[vec:], 0x7fffffff)
	if _, err := decode(b); !errors.Is(err, ErrMalformed) {
		t.Errorf("err = %v, want ErrMalformed", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range samples {
		f.Add(encodeSample(s.typ, s.v))
	}
	f.Add([]byte("PPLB"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := decode(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrVersion) {
				t.Fatalf("error %v wraps neither ErrMalformed nor ErrVersion", err)
			}
			return
		}
		if err := validate(b); err != nil {
			t.Fatalf("decode accepted an invalid message: %v", err)
		}
		// Whatever decodes must survive a trip through the encoder.
		if _, err := decode(encodeSample(b.Type, b.Value)); err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
	})
}
