package chat

import (
	"errors"
	"fmt"
	"unicode/utf8"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/peerplay/peerplay/chat/internal/chatfb"
	"github.com/peerplay/peerplay/internal/fbenvelope"
)

// Wire formats: the bus sends one FlatBuffers Envelope per transport
// message (identifier "PPBS", version 1); a chat line is the payload of a
// bus publication (identifier "PPCL", version 1). Schemas, field meanings
// and compatibility rules: internal/chatfb (bus.fbs, line.fbs, README.md).
const (
	wireVersion = 1
	busID       = "PPBS"
	lineID      = "PPCL"
	// maxStamp bounds Lamport clocks and sequence numbers on the wire, so
	// that a hostile peer cannot push everyone's clock to overflow.
	maxStamp       = 1 << 53
	maxChunk       = 64 // history entries per History message
	maxWireName    = 4 * MaxNameRunes
	maxWireText    = 4 * MaxRunesLimit
	maxLineSize    = maxWireText + maxWireName + 64
	historyBudget  = 12 << 10 // bytes of entries per History message
	entryOverhead  = 64
	peerIDOverhead = 8
)

// Limits every peer enforces on what it sends and accepts.
const (
	// MaxTopicSize is the longest topic, in bytes.
	MaxTopicSize = 64
	// MaxRecipients is the most recipients of one publication.
	MaxRecipients = 32
	// MaxPeerIDSize is the longest PeerID the bus accepts, in bytes.
	MaxPeerIDSize = 64
	// MaxPayloadLimit is the largest BusConfig.MaxPayload.
	MaxPayloadLimit = 8 << 10
	// MaxHistoryLimit is the largest BusConfig.History.
	MaxHistoryLimit = 1024
	// MaxMessageSize is the largest bus message, in bytes; anything bigger
	// is dropped unread. Every message the bus builds fits.
	MaxMessageSize = 16 << 10
)

// busEncoder builds bus messages with one reused Builder; the bytes are
// valid until the next call (Conn.Send copies them).
type busEncoder struct{ b *flatbuffers.Builder }

func (e *busEncoder) encode(typ chatfb.Body, v any) []byte {
	if e.b == nil {
		e.b = flatbuffers.NewBuilder(256)
	}
	e.b.Reset()
	env := chatfb.EnvelopeT{Version: wireVersion, Body: &chatfb.BodyT{Type: typ, Value: v}}
	e.b.FinishWithFileIdentifier(env.Pack(e.b), []byte(busID))
	return e.b.FinishedBytes()
}

// busFormat and lineFormat are the envelopes of bus messages and chat
// lines.
var (
	busFormat = fbenvelope.Format{ID: busID, Version: wireVersion, MaxSize: MaxMessageSize,
		Malformed: ErrMalformed, BadVersion: ErrVersion}
	lineFormat = fbenvelope.Format{ID: lineID, Version: wireVersion, MaxSize: maxLineSize, Label: "line",
		Malformed: ErrMalformed, BadVersion: ErrVersion}
)

// decodeBus parses one bus message. It is total: any input returns a
// message or an error wrapping ErrMalformed or ErrVersion, never a panic,
// and every count is checked before anything is unpacked.
func decodeBus(data []byte) (*chatfb.BodyT, error) {
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
func unpackBus(env *chatfb.Envelope) (*chatfb.BodyT, error) {
	var tab flatbuffers.Table
	if !env.Body(&tab) {
		return nil, errors.New("no body")
	}
	typ := env.BodyType()
	switch typ {
	case chatfb.BodyPublish:
		var p chatfb.Publish
		p.Init(tab.Bytes, tab.Pos)
		if n := p.ToLength(); n > MaxRecipients {
			return nil, fmt.Errorf("%d recipients", n)
		}
	case chatfb.BodyHistory:
		var h chatfb.History
		h.Init(tab.Bytes, tab.Pos)
		n := h.EntriesLength()
		if n > maxChunk {
			return nil, fmt.Errorf("%d history entries", n)
		}
		var e chatfb.Entry
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

func validateBus(b *chatfb.BodyT) error {
	switch v := b.Value.(type) {
	case *chatfb.HelloT:
		if v.Clock >= maxStamp || int(v.History) > MaxHistoryLimit {
			return fmt.Errorf("clock %d, history %d", v.Clock, v.History)
		}
	case *chatfb.PublishT:
		return checkPub(v.Seq, v.Stamp, v.Topic, v.To, v.Payload)
	case *chatfb.HistoryT:
		if v.Clock >= maxStamp {
			return fmt.Errorf("clock %d", v.Clock)
		}
		for _, e := range v.Entries {
			if e == nil {
				return fmt.Errorf("nil entry")
			}
			if err := checkID(e.Origin); err != nil {
				return err
			}
			if err := checkPub(e.Seq, e.Stamp, e.Topic, e.To, e.Payload); err != nil {
				return err
			}
		}
	case *chatfb.ClockT:
		if v.Clock >= maxStamp {
			return fmt.Errorf("clock %d", v.Clock)
		}
	default:
		return fmt.Errorf("unexpected body %T", v)
	}
	return nil
}

func checkPub(seq, stamp uint64, topic string, to []string, payload []byte) error {
	switch {
	case seq == 0 || seq >= maxStamp || stamp == 0 || stamp >= maxStamp:
		return fmt.Errorf("seq %d, stamp %d", seq, stamp)
	case topic == "" || len(topic) > MaxTopicSize || !utf8.ValidString(topic):
		return fmt.Errorf("topic %q", topic)
	case len(payload) > MaxPayloadLimit:
		return fmt.Errorf("payload %d bytes", len(payload))
	}
	for i, p := range to {
		if err := checkID(p); err != nil {
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

func checkID(id string) error {
	if id == "" || len(id) > MaxPeerIDSize || !utf8.ValidString(id) {
		return fmt.Errorf("bad peer ID %q", id)
	}
	return nil
}

// line is a decoded chat line.
type line struct {
	kind chatfb.Kind
	text string
	name string
	team int
}

func encodeLine(b *flatbuffers.Builder, l line) []byte {
	b.Reset()
	t := chatfb.LineT{Version: wireVersion, Kind: l.kind, Text: l.text, Name: l.name, Team: int32(l.team)}
	b.FinishWithFileIdentifier(t.Pack(b), []byte(lineID))
	return b.FinishedBytes()
}

// decodeLine parses a chat line; total like decodeBus. The text is
// returned as sent: the caller cleans it.
func decodeLine(data []byte) (line, error) {
	l, err := fbenvelope.Decode(lineFormat, data, func(t *chatfb.Line) (line, error) {
		return line{kind: t.Kind(), text: string(t.Text()), name: string(t.Name()), team: int(t.Team())}, nil
	})
	if err != nil {
		return line{}, err
	}
	if l.kind != chatfb.KindText && l.kind != chatfb.KindProfile {
		return line{}, fmt.Errorf("%w: line kind %d", ErrMalformed, l.kind)
	}
	if len(l.text) > maxWireText || len(l.name) > maxWireName {
		return line{}, fmt.Errorf("%w: line text %d, name %d bytes", ErrMalformed, len(l.text), len(l.name))
	}
	return l, nil
}
