// Package pubsubwire is the wire format of the topic bus (package pubsub):
// one FlatBuffers Envelope per transport message, identifier "PPBS",
// version 1, schema internal/pubsubfb/bus.fbs (field meanings and
// compatibility rules in its README.md). It is internal so that pubsub
// and the red-team tests of the packages built on it (chat) share one
// encoder and one total decoder.
package pubsubwire

import (
	"errors"
	"fmt"
	"unicode/utf8"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/peerplay/peerplay/internal/fbenvelope"
	"github.com/peerplay/peerplay/internal/pubsubfb"
)

// Wire constants.
const (
	// Version is the envelope version; ID the file identifier.
	Version = 1
	ID      = "PPBS"
	// MaxStamp bounds Lamport clocks and sequence numbers on the wire, so
	// that a hostile peer cannot push everyone's clock to overflow.
	MaxStamp = 1 << 53
	// MaxChunk is the most history entries per History message.
	MaxChunk = 64
	// HistoryBudget is the bytes of entries per History message;
	// EntryOverhead and PeerIDOverhead estimate an entry's size beyond its
	// strings.
	HistoryBudget  = 12 << 10
	EntryOverhead  = 64
	PeerIDOverhead = 8
)

// Limits every peer enforces on what it sends and accepts.
const (
	// MaxTopicSize is the longest topic, in bytes.
	MaxTopicSize = 64
	// MaxRecipients is the most recipients of one publication.
	MaxRecipients = 32
	// MaxPeerIDSize is the longest PeerID the bus accepts, in bytes.
	MaxPeerIDSize = 64
	// MaxPayloadLimit is the largest payload.
	MaxPayloadLimit = 8 << 10
	// MaxHistoryLimit is the most history entries a peer asks for.
	MaxHistoryLimit = 1024
	// MaxMessageSize is the largest bus message, in bytes; anything bigger
	// is dropped unread. Every message the bus builds fits.
	MaxMessageSize = 16 << 10
)

var (
	// ErrMalformed wraps every error of the decoder.
	ErrMalformed = errors.New("pubsub: malformed message")
	// ErrVersion is returned by the decoder for another wire version.
	ErrVersion = errors.New("pubsub: unsupported wire version")
)

// Encoder builds bus messages with one reused Builder; the bytes are
// valid until the next call (Conn.Send copies them).
type Encoder struct{ b *flatbuffers.Builder }

func (e *Encoder) Encode(typ pubsubfb.Body, v any) []byte {
	if e.b == nil {
		e.b = flatbuffers.NewBuilder(256)
	}
	e.b.Reset()
	env := pubsubfb.EnvelopeT{Version: Version, Body: &pubsubfb.BodyT{Type: typ, Value: v}}
	e.b.FinishWithFileIdentifier(env.Pack(e.b), []byte(ID))
	return e.b.FinishedBytes()
}

// busFormat is the envelope of bus messages.
var busFormat = fbenvelope.Format{ID: ID, Version: Version, MaxSize: MaxMessageSize,
	Malformed: ErrMalformed, BadVersion: ErrVersion}

// Decode parses one bus message. It is total: any input returns a
// message or an error wrapping ErrMalformed or ErrVersion, never a panic,
// and every count is checked before anything is unpacked.
func Decode(data []byte) (*pubsubfb.BodyT, error) {
	body, err := fbenvelope.Decode(busFormat, data, unpackBus)
	if err != nil {
		return nil, err
	}
	if err := validateBus(body); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, body.Type, err)
	}
	return body, nil
}

// unpackBus unpacks the body of an envelope that fbenvelope checked; it
// runs under fbenvelope's recover, which wraps its errors in ErrMalformed.
func unpackBus(env *pubsubfb.Envelope) (*pubsubfb.BodyT, error) {
	var tab flatbuffers.Table
	if !env.Body(&tab) {
		return nil, errors.New("no body")
	}
	typ := env.BodyType()
	switch typ {
	case pubsubfb.BodyPublish:
		var p pubsubfb.Publish
		p.Init(tab.Bytes, tab.Pos)
		if n := p.ToLength(); n > MaxRecipients {
			return nil, fmt.Errorf("%d recipients", n)
		}
	case pubsubfb.BodyHistory:
		var h pubsubfb.History
		h.Init(tab.Bytes, tab.Pos)
		n := h.EntriesLength()
		if n > MaxChunk {
			return nil, fmt.Errorf("%d history entries", n)
		}
		var e pubsubfb.Entry
		for i := range n {
			if !h.Entries(&e, i) {
				return nil, fmt.Errorf("entry %d", i)
			}
			if m := e.ToLength(); m > MaxRecipients {
				return nil, fmt.Errorf("%d recipients", m)
			}
		}
	}
	body := typ.UnPack(tab)
	if body == nil || body.Value == nil {
		return nil, fmt.Errorf("body type %d", typ)
	}
	return body, nil
}

func validateBus(b *pubsubfb.BodyT) error {
	switch v := b.Value.(type) {
	case *pubsubfb.HelloT:
		if v.Clock >= MaxStamp || int(v.History) > MaxHistoryLimit {
			return fmt.Errorf("clock %d, history %d", v.Clock, v.History)
		}
	case *pubsubfb.PublishT:
		return checkPub(v.Seq, v.Stamp, v.Topic, v.To, v.Payload)
	case *pubsubfb.HistoryT:
		if v.Clock >= MaxStamp {
			return fmt.Errorf("clock %d", v.Clock)
		}
		for _, e := range v.Entries {
			if e == nil {
				return fmt.Errorf("nil entry")
			}
			if err := CheckID(e.Origin); err != nil {
				return err
			}
			if err := checkPub(e.Seq, e.Stamp, e.Topic, e.To, e.Payload); err != nil {
				return err
			}
		}
	case *pubsubfb.ClockT:
		if v.Clock >= MaxStamp {
			return fmt.Errorf("clock %d", v.Clock)
		}
	default:
		return fmt.Errorf("unexpected body %T", v)
	}
	return nil
}

func checkPub(seq, stamp uint64, topic string, to []string, payload []byte) error {
	switch {
	case seq == 0 || seq >= MaxStamp || stamp == 0 || stamp >= MaxStamp:
		return fmt.Errorf("seq %d, stamp %d", seq, stamp)
	case topic == "" || len(topic) > MaxTopicSize || !utf8.ValidString(topic):
		return fmt.Errorf("topic %q", topic)
	case len(payload) > MaxPayloadLimit:
		return fmt.Errorf("payload %d bytes", len(payload))
	}
	for i, p := range to {
		if err := CheckID(p); err != nil {
			return err
		}
		for _, q := range to[:i] {
			if p == q {
				return fmt.Errorf("duplicate recipient %q", p)
			}
		}
	}
	return nil
}

func CheckID(id string) error {
	if id == "" || len(id) > MaxPeerIDSize || !utf8.ValidString(id) {
		return fmt.Errorf("bad peer ID %q", id)
	}
	return nil
}
