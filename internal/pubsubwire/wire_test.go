package pubsubwire

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
	"github.com/peerplay/peerplay/internal/pubsubfb"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.txt")

var busSamples = []struct {
	name string
	typ  pubsubfb.Body
	v    any
}{
	{"hello", pubsubfb.BodyHello, &pubsubfb.HelloT{Clock: 42, History: 64}},
	{"publish", pubsubfb.BodyPublish, &pubsubfb.PublishT{Seq: 7, Stamp: 43, Topic: "chat/dm", To: []string{"p1", "p2"},
		Payload: []byte("hi"), Ephemeral: true}},
	{"history", pubsubfb.BodyHistory, &pubsubfb.HistoryT{Clock: 50, Done: true, Entries: []*pubsubfb.EntryT{
		{Origin: "p1", Seq: 1, Stamp: 3, Topic: "chat/all", To: []string{}, Payload: []byte("a")},
		{Origin: "p2", Seq: 4, Stamp: 9, Topic: "chat/team", To: []string{"p2", "p3"}, Payload: []byte("b")},
	}}},
	{"clock", pubsubfb.BodyClock, &pubsubfb.ClockT{Clock: 51}},
}

func encodeBus(typ pubsubfb.Body, v any) []byte {
	var e Encoder
	return bytes.Clone(e.Encode(typ, v))
}

func TestGolden(t *testing.T) {
	var wires []meshtest.Wire
	for _, s := range busSamples {
		wires = append(wires, meshtest.Wire{Name: s.name, Bytes: encodeBus(s.typ, s.v)})
	}
	meshtest.Golden(t, "testdata/golden.txt", *update, wires)
}

func TestRoundTrip(t *testing.T) {
	for _, s := range busSamples {
		b, err := Decode(encodeBus(s.typ, s.v))
		if err != nil {
			t.Errorf("%s: %v", s.name, err)
			continue
		}
		if b.Type != s.typ || !reflect.DeepEqual(b.Value, s.v) {
			t.Errorf("%s: got %+v, want %+v", s.name, b.Value, s.v)
		}
	}
}

func busEnvelope(version byte, typ pubsubfb.Body, v any, id string) []byte {
	b := flatbuffers.NewBuilder(64)
	env := pubsubfb.EnvelopeT{Version: version, Body: &pubsubfb.BodyT{Type: typ, Value: v}}
	b.FinishWithFileIdentifier(env.Pack(b), []byte(id))
	return b.FinishedBytes()
}

func TestDecodeBusRejects(t *testing.T) {
	many := make([]string, MaxRecipients+1)
	for i := range many {
		many[i] = fmt.Sprintf("p%d", i)
	}
	entries := make([]*pubsubfb.EntryT, MaxChunk+1)
	for i := range entries {
		entries[i] = &pubsubfb.EntryT{Origin: "x", Seq: 1, Stamp: 1, Topic: "t"}
	}
	pub := func(p pubsubfb.PublishT) []byte { return busEnvelope(1, pubsubfb.BodyPublish, &p, ID) }
	valid := encodeBus(pubsubfb.BodyClock, &pubsubfb.ClockT{Clock: 1})
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"huge", make([]byte, MaxMessageSize+1), ErrMalformed},
		{"identifier", busEnvelope(1, pubsubfb.BodyClock, &pubsubfb.ClockT{}, "PPLB"), ErrMalformed},
		{"version", busEnvelope(2, pubsubfb.BodyClock, &pubsubfb.ClockT{}, ID), ErrVersion},
		{"no body", busEnvelope(1, pubsubfb.BodyNONE, nil, ID), ErrMalformed},
		{"truncated", valid[:len(valid)/2], ErrMalformed},
		{"clock overflow", busEnvelope(1, pubsubfb.BodyClock, &pubsubfb.ClockT{Clock: MaxStamp}, ID), ErrMalformed},
		{"hello history", busEnvelope(1, pubsubfb.BodyHello, &pubsubfb.HelloT{History: MaxHistoryLimit + 1}, ID), ErrMalformed},
		{"seq 0", pub(pubsubfb.PublishT{Seq: 0, Stamp: 1, Topic: "t"}), ErrMalformed},
		{"stamp 0", pub(pubsubfb.PublishT{Seq: 1, Stamp: 0, Topic: "t"}), ErrMalformed},
		{"no topic", pub(pubsubfb.PublishT{Seq: 1, Stamp: 1}), ErrMalformed},
		{"long topic", pub(pubsubfb.PublishT{Seq: 1, Stamp: 1, Topic: strings.Repeat("t", MaxTopicSize+1)}), ErrMalformed},
		{"bad topic", pub(pubsubfb.PublishT{Seq: 1, Stamp: 1, Topic: "\xff"}), ErrMalformed},
		{"payload", pub(pubsubfb.PublishT{Seq: 1, Stamp: 1, Topic: "t", Payload: make([]byte, MaxPayloadLimit+1)}), ErrMalformed},
		{"recipients", pub(pubsubfb.PublishT{Seq: 1, Stamp: 1, Topic: "t", To: many}), ErrMalformed},
		{"duplicate recipient", pub(pubsubfb.PublishT{Seq: 1, Stamp: 1, Topic: "t", To: []string{"a", "a"}}), ErrMalformed},
		{"empty recipient", pub(pubsubfb.PublishT{Seq: 1, Stamp: 1, Topic: "t", To: []string{""}}), ErrMalformed},
		{"history chunk", busEnvelope(1, pubsubfb.BodyHistory, &pubsubfb.HistoryT{Entries: entries}, ID), ErrMalformed},
		{"history origin", busEnvelope(1, pubsubfb.BodyHistory, &pubsubfb.HistoryT{Entries: []*pubsubfb.EntryT{
			{Seq: 1, Stamp: 1, Topic: "t"}}}, ID), ErrMalformed},
	}
	for _, tt := range tests {
		if _, err := Decode(tt.data); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func FuzzDecodeBus(f *testing.F) {
	for _, s := range busSamples {
		f.Add(encodeBus(s.typ, s.v))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrVersion) {
				t.Fatalf("error %v wraps neither ErrMalformed nor ErrVersion", err)
			}
			return
		}
		if _, err := Decode(encodeBus(b.Type, b.Value)); err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
	})
}
