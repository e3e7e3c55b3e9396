package chat

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"reflect"
	"strings"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/peerplay/peerplay/chat/internal/chatfb"
	"github.com/peerplay/peerplay/internal/meshtest"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.txt")

var busSamples = []struct {
	name string
	typ  chatfb.Body
	v    any
}{
	{"hello", chatfb.BodyHello, &chatfb.HelloT{Clock: 42, History: 64}},
	{"publish", chatfb.BodyPublish, &chatfb.PublishT{Seq: 7, Stamp: 43, Topic: "chat/dm", To: []string{"p1", "p2"},
		Payload: []byte("hi"), Ephemeral: true}},
	{"history", chatfb.BodyHistory, &chatfb.HistoryT{Clock: 50, Done: true, Entries: []*chatfb.EntryT{
		{Origin: "p1", Seq: 1, Stamp: 3, Topic: "chat/all", To: []string{}, Payload: []byte("a")},
		{Origin: "p2", Seq: 4, Stamp: 9, Topic: "chat/team", To: []string{"p2", "p3"}, Payload: []byte("b")},
	}}},
	{"clock", chatfb.BodyClock, &chatfb.ClockT{Clock: 51}},
}

var lineSamples = []struct {
	name string
	l    line
}{
	{"line-text", line{kind: chatfb.KindText, text: "gl hf", name: "alice", team: 2}},
	{"line-profile", line{kind: chatfb.KindProfile, name: "bob", team: -1}},
}

func encodeBus(typ chatfb.Body, v any) []byte {
	var e busEncoder
	return bytes.Clone(e.encode(typ, v))
}

func encodeLineBytes(l line) []byte { return bytes.Clone(encodeLine(flatbuffers.NewBuilder(64), l)) }

func TestGolden(t *testing.T) {
	var wires []meshtest.Wire
	for _, s := range busSamples {
		wires = append(wires, meshtest.Wire{Name: s.name, Bytes: encodeBus(s.typ, s.v)})
	}
	for _, s := range lineSamples {
		wires = append(wires, meshtest.Wire{Name: s.name, Bytes: encodeLineBytes(s.l)})
	}
	meshtest.Golden(t, "testdata/golden.txt", *update, wires)
}

func TestRoundTrip(t *testing.T) {
	for _, s := range busSamples {
		b, err := decodeBus(encodeBus(s.typ, s.v))
		if err != nil {
			t.Errorf("%s: %v", s.name, err)
			continue
		}
		if b.Type != s.typ || !reflect.DeepEqual(b.Value, s.v) {
			t.Errorf("%s: got %+v, want %+v", s.name, b.Value, s.v)
		}
	}
	for _, s := range lineSamples {
		l, err := decodeLine(encodeLineBytes(s.l))
		if err != nil || l != s.l {
			t.Errorf("%s: got %+v, %v; want %+v", s.name, l, err, s.l)
		}
	}
}

func busEnvelope(version byte, typ chatfb.Body, v any, id string) []byte {
	b := flatbuffers.NewBuilder(64)
	env := chatfb.EnvelopeT{Version: version, Body: &chatfb.BodyT{Type: typ, Value: v}}
	b.FinishWithFileIdentifier(env.Pack(b), []byte(id))
	return b.FinishedBytes()
}

func TestDecodeBusRejects(t *testing.T) {
	many := make([]string, MaxRecipients+1)
	for i := range many {
		many[i] = fmt.Sprintf("p%d", i)
	}
	entries := make([]*chatfb.EntryT, maxChunk+1)
	for i := range entries {
		entries[i] = &chatfb.EntryT{Origin: "x", Seq: 1, Stamp: 1, Topic: "t"}
	}
	pub := func(p chatfb.PublishT) []byte { return busEnvelope(1, chatfb.BodyPublish, &p, busID) }
	valid := encodeBus(chatfb.BodyClock, &chatfb.ClockT{Clock: 1})
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"huge", make([]byte, MaxMessageSize+1), ErrMalformed},
		{"identifier", busEnvelope(1, chatfb.BodyClock, &chatfb.ClockT{}, "PPLB"), ErrMalformed},
		{"version", busEnvelope(2, chatfb.BodyClock, &chatfb.ClockT{}, busID), ErrVersion},
		{"no body", busEnvelope(1, chatfb.BodyNONE, nil, busID), ErrMalformed},
		{"truncated", valid[:len(valid)/2], ErrMalformed},
		{"clock overflow", busEnvelope(1, chatfb.BodyClock, &chatfb.ClockT{Clock: maxStamp}, busID), ErrMalformed},
		{"hello history", busEnvelope(1, chatfb.BodyHello, &chatfb.HelloT{History: MaxHistoryLimit + 1}, busID), ErrMalformed},
		{"seq 0", pub(chatfb.PublishT{Seq: 0, Stamp: 1, Topic: "t"}), ErrMalformed},
		{"stamp 0", pub(chatfb.PublishT{Seq: 1, Stamp: 0, Topic: "t"}), ErrMalformed},
		{"no topic", pub(chatfb.PublishT{Seq: 1, Stamp: 1}), ErrMalformed},
		{"long topic", pub(chatfb.PublishT{Seq: 1, Stamp: 1, Topic: strings.Repeat("t", MaxTopicSize+1)}), ErrMalformed},
		{"bad topic", pub(chatfb.PublishT{Seq: 1, Stamp: 1, Topic: "\xff"}), ErrMalformed},
		{"payload", pub(chatfb.PublishT{Seq: 1, Stamp: 1, Topic: "t", Payload: make([]byte, MaxPayloadLimit+1)}), ErrMalformed},
		{"recipients", pub(chatfb.PublishT{Seq: 1, Stamp: 1, Topic: "t", To: many}), ErrMalformed},
		{"duplicate recipient", pub(chatfb.PublishT{Seq: 1, Stamp: 1, Topic: "t", To: []string{"a", "a"}}), ErrMalformed},
		{"empty recipient", pub(chatfb.PublishT{Seq: 1, Stamp: 1, Topic: "t", To: []string{""}}), ErrMalformed},
		{"history chunk", busEnvelope(1, chatfb.BodyHistory, &chatfb.HistoryT{Entries: entries}, busID), ErrMalformed},
		{"history origin", busEnvelope(1, chatfb.BodyHistory, &chatfb.HistoryT{Entries: []*chatfb.EntryT{
			{Seq: 1, Stamp: 1, Topic: "t"}}}, busID), ErrMalformed},
	}
	for _, tt := range tests {
		if _, err := decodeBus(tt.data); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestDecodeLineRejects(t *testing.T) {
	raw := func(version byte, kind chatfb.Kind, text string, id string) []byte {
		b := flatbuffers.NewBuilder(64)
		l := chatfb.LineT{Version: version, Kind: kind, Text: text}
		b.FinishWithFileIdentifier(l.Pack(b), []byte(id))
		return b.FinishedBytes()
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"identifier", raw(1, chatfb.KindText, "x", busID), ErrMalformed},
		{"version", raw(2, chatfb.KindText, "x", lineID), ErrVersion},
		{"kind", raw(1, 9, "x", lineID), ErrMalformed},
		{"long", raw(1, chatfb.KindText, strings.Repeat("x", maxWireText+1), lineID), ErrMalformed},
		{"truncated", raw(1, chatfb.KindText, "hello there", lineID)[:20], ErrMalformed},
	}
	for _, tt := range tests {
		if _, err := decodeLine(tt.data); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func FuzzDecodeBus(f *testing.F) {
	for _, s := range busSamples {
		f.Add(encodeBus(s.typ, s.v))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := decodeBus(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrVersion) {
				t.Fatalf("error %v wraps neither ErrMalformed nor ErrVersion", err)
			}
			return
		}
		if _, err := decodeBus(encodeBus(b.Type, b.Value)); err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
	})
}

func FuzzDecodeLine(f *testing.F) {
	for _, s := range lineSamples {
		f.Add(encodeLineBytes(s.l))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := decodeLine(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrVersion) {
				t.Fatalf("error %v wraps neither ErrMalformed nor ErrVersion", err)
			}
			return
		}
		if len(l.text) > maxWireText || len(l.name) > maxWireName {
			t.Fatalf("oversized line accepted: %d, %d", len(l.text), len(l.name))
		}
	})
}
