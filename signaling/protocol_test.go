package signaling

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/peerplay/peerplay/signaling/internal/proto"
	"github.com/peerplay/peerplay/signaling/internal/rooms"
)

var update = flag.Bool("update", false, "rewrite testdata/golden")

// goldenFrames holds one message of every kind, as the wire shows them.
var goldenFrames = []struct {
	name   string
	client bool // sent by the client (else by the server)
	f      proto.Frame
}{
	{"join", true, proto.Frame{Type: proto.TypeJoin, Version: ProtocolVersion, Room: "lobby-1", Name: "alice", Password: "pw", Token: "v1.e30.c2ln", Game: "pong", Private: true, Max: 4}},
	{"join-resume", true, proto.Frame{Type: proto.TypeJoin, Version: ProtocolVersion, Room: "lobby-1", Peer: "abcdefghijklmnop", Resume: "cmVzdW1lLXRva2Vu"}},
	{"signal-to", true, proto.Frame{Type: proto.TypeSignal, To: "qrstuvwxyz234567", Data: []byte(`{"type":"offer","sdp":"v=0"}`)}},
	{"room-meta", true, proto.Frame{Type: proto.TypeRoom, Meta: &RoomMeta{Name: "Alice's table", State: "playing", Max: 3}}},
	{"ping", true, proto.Frame{Type: proto.TypePing}},
	{"leave", true, proto.Frame{Type: proto.TypeLeave}},
	{"welcome", false, proto.Frame{Type: proto.TypeWelcome, Version: ProtocolVersion, Room: "lobby-1", Peer: "abcdefghijklmnop", Resume: "cmVzdW1lLXRva2Vu",
		Peers: []PeerInfo{{ID: "qrstuvwxyz234567", Name: "bob"}},
		ICE: []ICEServer{{URLs: []string{"stun:stun.example:3478"}},
			{URLs: []string{"turn:turn.example:3478?transport=udp"}, Username: "1795921264:abcdefghijklmnop", Credential: "b64hmac="}},
		Info:   &RoomInfo{Room: "lobby-1", Name: "Alice's table", Game: "pong", Players: 2, Max: 4, Password: true, State: "lobby"},
		Limits: &Limits{MaxMessageBytes: 65536, MessagesPerSecond: 50, Burst: 200, PingIntervalMS: 20000, IdleTimeoutMS: 60000, ResumeGraceMS: 30000}}},
	{"welcome-resumed", false, proto.Frame{Type: proto.TypeWelcome, Version: ProtocolVersion, Room: "lobby-1", Peer: "abcdefghijklmnop", Resume: "cmVzdW1lLXRva2Vu", Resumed: true,
		Info: &RoomInfo{Room: "lobby-1", Players: 1, Max: 16}}},
	{"peer-joined", false, proto.Frame{Type: proto.TypePeerJoined, Peer: "qrstuvwxyz234567", Name: "bob"}},
	{"peer-left", false, proto.Frame{Type: proto.TypePeerLeft, Peer: "qrstuvwxyz234567"}},
	{"signal-bin", true, proto.Frame{Type: proto.TypeSignal, To: "qrstuvwxyz234567", Bin: []byte{0, 1, 2, 0xfe, 0xff}}},
	{"signal-from", false, proto.Frame{Type: proto.TypeSignal, Peer: "qrstuvwxyz234567", Data: []byte(`{"candidate":"candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host"}`)}},
	{"room-info", false, proto.Frame{Type: proto.TypeRoom, Info: &RoomInfo{Room: "lobby-1", Name: "Alice's table", Game: "pong", Players: 2, Max: 3, State: "playing"}}},
	{"pong", false, proto.Frame{Type: proto.TypePong}},
	{"error", false, proto.Frame{Type: proto.TypeError, Code: CodeRoomFull, Message: "room lobby-1 is full (4 of 4)"}},
	{"error-version", false, proto.Frame{Type: proto.TypeError, Code: CodeVersion, Message: "protocol version 1 not supported", MinVersion: MinProtocolVersion, MaxVersion: ProtocolVersion}},
	{"error-unknown-peer", false, proto.Frame{Type: proto.TypeError, Code: CodeUnknownPeer, Message: "no peer x in room lobby-1", Peer: "x"}},
	{"kick", true, proto.Frame{Type: proto.TypeKick, Peer: "qrstuvwxyz234567"}},
	{"unkick", true, proto.Frame{Type: proto.TypeUnkick, Peer: "qrstuvwxyz234567"}},
	{"ice", false, proto.Frame{Type: proto.TypeICE, ICE: []ICEServer{{URLs: []string{"turn:turn.example:3478?transport=udp"},
		Username: "1795921864:abcdefghijklmnop@lobby-1", Credential: "b64hmac="}}}},
	{"room-info-owner", false, proto.Frame{Type: proto.TypeRoom, Info: &RoomInfo{Room: "lobby-1", Game: "pong", Players: 2, Held: 1, Max: 4, Owner: "abcdefghijklmnop"}}},
	{"error-not-owner", false, proto.Frame{Type: proto.TypeError, Code: CodeNotOwner, Message: "only the owner of room lobby-1 may kick", Peer: "qrstuvwxyz234567"}},
}

func TestGolden(t *testing.T) {
	for _, g := range goldenFrames {
		t.Run(g.name, func(t *testing.T) {
			got := wireEncode(&g.f)
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, got, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			path := filepath.Join("testdata", "golden", g.name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGolden -update)", err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Fatalf("encoding changed:\n got %s\nwant %s", pretty.Bytes(), want)
			}
			// The golden file decodes to the same frame and validates.
			f, err := proto.DecodeFrame(want, DefaultMaxMessageBytes)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(normalize(f), normalize(g.f)) {
				t.Fatalf("decoded %+v, want %+v", f, g.f)
			}
			validate := proto.ValidateServerFrame
			if g.client {
				validate = proto.ValidateClientFrame
			}
			if err := validate(&f); err != nil {
				t.Fatalf("golden proto.Frame invalid: %v", err)
			}
			// A signal with JSON data also takes the fast path, to the
			// same fields.
			if len(g.f.Data) > 0 {
				key, wantID := "to", g.f.To
				if !g.client {
					key, wantID = "peer", g.f.Peer
				}
				id, data, ok := proto.ScanSignal(got, key)
				if !ok || string(id) != string(wantID) || !bytes.Equal(data, g.f.Data) {
					t.Fatalf("scanSignal = %q, %q, %v", id, data, ok)
				}
			}
		})
	}
}

// wireEncode encodes f as the client and server write it: signals with
// encodeSignal, everything else with encodeFrame.
func wireEncode(f *proto.Frame) []byte {
	switch {
	case f.Type == proto.TypeSignal && f.To != "":
		return proto.EncodeSignal("to", f.To, f.Payload())
	case f.Type == proto.TypeSignal:
		return proto.EncodeSignal("peer", f.Peer, f.Payload())
	}
	return proto.EncodeFrame(f)
}

func TestValidateClientFrame(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Code // "" = valid
	}{
		{`{"type":"join","version":2,"room":"a"}`, ""},
		{`{"type":"join","version":2,"room":"a","future_field":[1,2]}`, ""},
		{`{"type":"join","room":"a"}`, CodeVersion},
		{`{"type":"join","version":1,"room":"a"}`, CodeVersion}, // base64 data: refused
		{`{"type":"join","version":3,"room":"a"}`, CodeVersion},
		{`{"type":"join","version":2}`, CodeBadRequest},
		{`{"type":"join","version":2,"room":"a/b"}`, CodeBadRequest},
		{`{"type":"join","version":2,"room":"a","max":-1}`, CodeBadRequest},
		{`{"type":"join","version":2,"room":"a","max":5000}`, CodeBadRequest},
		{`{"type":"join","version":2,"room":"a","resume":"x"}`, CodeBadRequest},
		{`{"type":"join","version":2,"room":"a","peer":"p q","resume":"x"}`, CodeBadRequest},
		{`{"type":"join","version":2,"room":"a","password":"` + strings.Repeat("p", 129) + `"}`, CodeBadRequest},
		{`{"type":"signal","to":"p","data":{"sdp":"v=0"}}`, ""},
		{`{"type":"signal","to":"p","data":"aGk="}`, ""},
		{`{"type":"signal","to":"p","data":null}`, ""},
		{`{"type":"signal","to":"p"}`, ""}, // an empty payload
		{`{"type":"signal","to":"p","bin":"AAH/"}`, ""},
		{`{"type":"signal","to":"p","bin":"AAH"}`, CodeBadRequest},
		{`{"type":"signal","to":"p","bin":"AAH/","data":1}`, CodeBadRequest},
		{`{"type":"signal","to":"p","data":{]}`, CodeBadRequest},
		{`{"type":"signal","data":{}}`, CodeBadRequest},
		{`{"type":"room","meta":{"state":"` + strings.Repeat("s", 33) + `"}}`, CodeBadRequest},
		{`{"type":"room","meta":{"max":-2}}`, CodeBadRequest},
		{`{"type":"room","meta":{}}`, ""},
		{`{"type":"ping"}`, ""},
		{`{"type":"leave"}`, ""},
		{`{"type":"welcome"}`, CodeBadRequest},
		{`{"type":"join","version":"1","room":"a"}`, CodeBadRequest},
		{`{"type":1}`, CodeBadRequest},
		{`null`, CodeBadRequest},
		{`  `, CodeBadRequest},
	} {
		f, err := proto.DecodeFrame([]byte(tc.in), DefaultMaxMessageBytes)
		if err == nil {
			err = proto.ValidateClientFrame(&f)
		}
		var got Code
		var se *ServerError
		if errors.As(err, &se) {
			got = se.Code
		} else if err != nil {
			t.Fatalf("%s: error %v is not a *ServerError", tc.in, err)
		}
		if got != tc.want {
			t.Errorf("%s: got %q (%v), want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestCodesAndSentinels(t *testing.T) {
	for _, code := range proto.Codes() {
		sentinel := code.Sentinel()
		err := error(&ServerError{Code: code, Message: "m"})
		if !errors.Is(err, sentinel) {
			t.Errorf("%s does not match its sentinel", code)
		}
		if errors.Is(err, ErrClosed) {
			t.Errorf("%s matches ErrClosed", code)
		}
		if got := proto.AsServerError(sentinel).Code; got != code {
			t.Errorf("asServerError(%v).Code = %s, want %s", sentinel, got, code)
		}
	}
	if Code("nope").Known() || Code("nope").Sentinel() != nil {
		t.Error("unknown code reported known")
	}
	for k := EventKindUnknown; k <= EventFailed+1; k++ {
		if k.String() == "" {
			t.Errorf("EventKind(%d) has no name", k)
		}
	}
	if got := EventFailed + 1; !strings.HasPrefix(got.String(), "unknown(") {
		t.Errorf("out of range kind: %q", got.String())
	}
}

func TestTokenRoundTrip(t *testing.T) {
	secret := []byte("k")
	exp := time.Unix(2000000000, 0)
	tok, err := MintToken(secret, TokenClaims{Room: "r-1", Name: "alice", Expiry: exp})
	if err != nil {
		t.Fatal(err)
	}
	c, err := VerifyToken(secret, tok, exp.Add(-time.Second))
	if err != nil || c.Room != "r-1" || c.Name != "alice" || !c.Expiry.Equal(exp) {
		t.Fatalf("VerifyToken = %+v, %v", c, err)
	}
	if _, err := VerifyToken(secret, tok, exp); !errors.Is(err, ErrTokenExpired) {
		t.Fatalf("at expiry: %v, want ErrTokenExpired", err)
	}
	// Flip one byte anywhere: never valid.
	for i := range tok {
		b := []byte(tok)
		b[i] ^= 0x01
		if _, err := VerifyToken(secret, string(b), exp.Add(-time.Second)); err == nil {
			t.Fatalf("token with byte %d flipped verifies", i)
		}
	}
	for _, bad := range []TokenClaims{{Room: "", Expiry: exp}, {Room: "a b", Expiry: exp}, {Room: "r"}} {
		if _, err := MintToken(secret, bad); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("MintToken(%+v): %v, want ErrInvalidConfig", bad, err)
		}
	}
	if _, err := MintToken(nil, TokenClaims{Room: "r", Expiry: exp}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("empty secret: %v", err)
	}
}

// FuzzDecodeFrame: the decoder and both validators are total.
func FuzzDecodeFrame(f *testing.F) {
	for _, g := range goldenFrames {
		f.Add(proto.EncodeFrame(&g.f))
	}
	f.Add([]byte(`{"type":"join","version":2,"room":"a","data":"!!"}`))
	f.Add([]byte(`{"type":"signal","to":"p","data":null,"peers":[{"id":1}]}`))
	f.Add([]byte(`{"type":"kick","peer":""}`))
	f.Add([]byte(`{"type":"ice","ice":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := proto.DecodeFrame(b, 4096)
		if err != nil {
			var se *ServerError
			if !errors.As(err, &se) || !se.Code.Known() {
				t.Fatalf("decode error %v without a known code", err)
			}
			return
		}
		_ = proto.ValidateClientFrame(&fr)
		_ = proto.ValidateServerFrame(&fr)
		// What decodes re-encodes and decodes to the same frame.
		again, err := proto.DecodeFrame(proto.EncodeFrame(&fr), 0)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !reflect.DeepEqual(normalize(again), normalize(fr)) {
			t.Fatalf("round trip changed the proto.Frame:\n%+v\n%+v", fr, again)
		}
	})
}

// normalize maps empty slices to nil (omitempty drops them) and data to
// the form encoding/json writes (compact, HTML-escaped).
func normalize(f proto.Frame) proto.Frame {
	if len(f.Data) == 0 {
		f.Data = nil
	} else if b, err := json.Marshal(f.Data); err == nil {
		f.Data = b
	}
	if len(f.Peers) == 0 {
		f.Peers = nil
	}
	if len(f.Bin) == 0 {
		f.Bin = nil
	}
	if len(f.ICE) == 0 {
		f.ICE = nil
	}
	return f
}

// FuzzVerifyToken: token verification is total and never accepts what it
// did not mint.
func FuzzVerifyToken(f *testing.F) {
	secret := []byte("fuzz")
	tok, _ := MintToken(secret, TokenClaims{Room: "r", Name: "n", Expiry: time.Unix(2000000000, 0)})
	f.Add(tok)
	f.Add("v1.")
	f.Add("v1..")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := VerifyToken(secret, s, time.Unix(1000000000, 0))
		if err == nil && s != tok {
			// Another valid token must have a valid signature: re-mint it.
			re, merr := MintToken(secret, c)
			if merr != nil {
				t.Fatalf("accepted token with unmintable claims %+v", c)
			}
			_ = re
		}
	})
}

// TestRuleCodes: the room rules' refusal codes are protocol codes.
func TestRuleCodes(t *testing.T) {
	for _, c := range []string{rooms.CodeRoomFull, rooms.CodeBadPassword, rooms.CodeWrongGame, rooms.CodeTooManyRooms, rooms.CodeResumeFailed} {
		if !Code(c).Known() {
			t.Errorf("rooms code %q is not a signaling code", c)
		}
	}
}

// FuzzCloseError: any close a server (or a browser's CloseEvent) reports
// maps to nil or to a known code, never a panic.
func FuzzCloseError(f *testing.F) {
	f.Add(uint16(4403), "origin")
	f.Add(uint16(4429), "")
	f.Add(uint16(1008), "kicked")
	f.Add(uint16(1000), "bogus")
	f.Fuzz(func(t *testing.T, code uint16, reason string) {
		se := proto.CloseError(websocket.CloseError{Code: websocket.StatusCode(code), Reason: reason})
		if se != nil && !se.Code.Known() {
			t.Fatalf("close %d %q mapped to unknown code %q", code, reason, se.Code)
		}
	})
}

func TestRoomMetaMerge(t *testing.T) {
	m := RoomMeta{Name: "a", Game: "g", State: "s", Max: 4}
	m.Merge(RoomMeta{State: "t"})
	m.Merge(RoomMeta{Max: 6})
	if m != (RoomMeta{Name: "a", Game: "g", State: "t", Max: 6}) {
		t.Fatalf("merged %+v", m)
	}
}
