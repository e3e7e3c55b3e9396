package chat

import (
	"bytes"

	"github.com/peerplay/peerplay/internal/pubsubfb"
	"github.com/peerplay/peerplay/internal/pubsubwire"
)

// Raw bus messages for hostile and red-team tests (the bus is package
// pubsub; its wire format is internal/pubsubwire).

const (
	maxStamp = pubsubwire.MaxStamp
	busID    = pubsubwire.ID
)

func encodeBus(typ pubsubfb.Body, v any) []byte {
	var e pubsubwire.Encoder
	return bytes.Clone(e.Encode(typ, v))
}

func decodeBus(data []byte) (*pubsubfb.BodyT, error) { return pubsubwire.Decode(data) }

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
