package natsbackplane

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling"
	"github.com/peerplay/peerplay/signaling/internal/rooms"
)

func validRecord() *record {
	return &record{V: wireVersion, Meta: rooms.Meta{Room: "lobby.1", Game: "pong", Max: 4, Salt: []byte{1}, Hash: []byte{2}},
		Members: map[transport.PeerID]member{"abcdefghijklmnop": {Name: "alice", Token: []byte{3}, Node: "n1", Attach: 7}}}
}

// TestRecordRoundTrip: a record survives encoding; its listing entry says
// what the room is.
func TestRecordRoundTrip(t *testing.T) {
	r := validRecord()
	got, err := decodeRecord(encodeRecord(r))
	if err != nil {
		t.Fatal(err)
	}
	if a, b := encodeRecord(got), encodeRecord(r); string(a) != string(b) {
		t.Fatalf("round trip: got %s, want %s", a, b)
	}
	want := signaling.RoomInfo{Room: "lobby.1", Game: "pong", Players: 1, Max: 4, Password: true}
	if got := r.info(); got != want {
		t.Fatalf("info %+v, want %+v", got, want)
	}
}

func TestDecodeRecordRejects(t *testing.T) {
	tests := []struct {
		name string
		edit func(map[string]any)
	}{
		{"version", func(m map[string]any) { m["v"] = 2 }},
		{"no room", func(m map[string]any) { delete(m, "room") }},
		{"negative max", func(m map[string]any) { m["max"] = -1 }},
		{"bad peer", func(m map[string]any) {
			m["members"] = map[string]any{"a.b": map[string]any{"token": "AA=="}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			_ = json.Unmarshal(encodeRecord(validRecord()), &m)
			tt.edit(m)
			b, _ := json.Marshal(m)
			if _, err := decodeRecord(b); !errors.Is(err, errMalformed) {
				t.Fatalf("decodeRecord(%s) = %v, want errMalformed", b, err)
			}
		})
	}
}

func TestSeatMsg(t *testing.T) {
	info := signaling.RoomInfo{Room: "r", Players: 2}
	tests := []struct {
		msg  seatMsg
		want signaling.EventKind
	}{
		{seatMsg{Kind: kindJoined, ID: "n.1", Peer: "abc", Name: "x"}, signaling.EventPeerJoined},
		{seatMsg{Kind: kindLeft, ID: "n.2", Peer: "abc"}, signaling.EventPeerLeft},
		{seatMsg{Kind: kindSignal, ID: "n.3", Peer: "abc", Data: []byte{0, 1}}, signaling.EventSignal},
		{seatMsg{Kind: kindRoom, ID: "n.4", Info: &info}, signaling.EventRoomUpdated},
	}
	for _, tt := range tests {
		got, err := decodeSeatMsg(encodeSeatMsg(&tt.msg))
		if err != nil {
			t.Fatalf("%s: %v", tt.msg.Kind, err)
		}
		if ev := got.event(); ev.Kind != tt.want || ev.Peer != tt.msg.Peer || string(ev.Data) != string(tt.msg.Data) {
			t.Errorf("%s: event %+v", tt.msg.Kind, ev)
		}
	}
	for _, bad := range []string{`{}`, `{"v":1,"k":"signal","id":"x"}`, `{"v":1,"k":"room","id":"x"}`, `{"v":1,"k":"?","id":"x","p":"a"}`, `[`} {
		if _, err := decodeSeatMsg([]byte(bad)); !errors.Is(err, errMalformed) {
			t.Errorf("decodeSeatMsg(%s) = %v, want errMalformed", bad, err)
		}
	}
}

func TestToken(t *testing.T) {
	tests := map[string]string{"lobby-1": "lobby-1", "a.b": "a_2eb", "a_b": "a_5fb", "_2e": "_5f2e", "Zz9": "Zz9"}
	seen := map[string]string{}
	for in, want := range tests {
		if got := token(in); got != want {
			t.Errorf("token(%q) = %q, want %q", in, got, want)
		}
		if prev, dup := seen[token(in)]; dup {
			t.Errorf("token(%q) = token(%q)", in, prev)
		}
		seen[token(in)] = in
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"url", Config{URL: "nats://127.0.0.1:4222"}, true},
		{"neither", Config{}, false},
		{"bad node", Config{URL: "x", Node: "a.b"}, false},
		{"bad bucket", Config{URL: "x", Bucket: "a b"}, false},
		{"bad subject", Config{URL: "x", Subject: "a..b"}, false},
		{"ttl too short", Config{URL: "x", TTL: 10e6}, false},
		{"replicas", Config{URL: "x", Replicas: 7}, false},
	}
	for _, tt := range tests {
		c, err := tt.cfg.validate()
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalidConfig)) {
			t.Errorf("%s: %v", tt.name, err)
		}
		if tt.ok && (c.Bucket != DefaultBucket || c.Subject != DefaultSubject || c.TTL != DefaultTTL || c.Replicas != 1 || c.Node == "") {
			t.Errorf("%s: defaults not filled: %+v", tt.name, c)
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add(encodeRecord(validRecord()))
	f.Add([]byte(`{"v":1,"room":"r","members":{}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			return
		}
		// Anything accepted re-encodes and decodes the same.
		r2, err := decodeRecord(encodeRecord(r))
		if err != nil || string(encodeRecord(r2)) != string(encodeRecord(r)) {
			t.Fatalf("accepted %q but its encoding does not round trip: %v", b, err)
		}
		_ = r.info()
		_ = r.peersExcept("x")
	})
}

func FuzzDecodeSeatMsg(f *testing.F) {
	info := signaling.RoomInfo{Room: "r"}
	for _, m := range []seatMsg{
		{Kind: kindJoined, ID: "n.1", Peer: "abc", Name: "x"},
		{Kind: kindSignal, ID: "n.3", Peer: "abc", Data: []byte("sdp")},
		{Kind: kindRoom, ID: "n.4", Info: &info},
	} {
		f.Add(encodeSeatMsg(&m))
	}
	t1, _ := json.Marshal(takeover{V: 1, Room: "r", Peer: "abc", Attach: 9})
	f.Add(t1)
	r1, _ := json.Marshal(takeoverReply{V: 1, Held: []seatMsg{{V: 1, Kind: kindSignal, ID: "a", Peer: "abc"}}})
	f.Add(r1)
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := decodeSeatMsg(b); err == nil {
			_ = m.event()
		}
		_, _ = decodeTakeover(b)
		if r, err := decodeTakeoverReply(b); err == nil {
			for _, m := range r.Held {
				_ = m.event()
			}
		}
	})
}
