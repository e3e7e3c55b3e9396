package chat

import (
	"fmt"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/peerplay/peerplay/chat/internal/chatfb"
	"github.com/peerplay/peerplay/internal/fbenvelope"
)

// Wire format: a chat line is the payload of a bus publication
// (identifier "PPCL", version 1; the bus itself is package pubsub). Schema,
// field meanings and compatibility rules: internal/chatfb (line.fbs,
// README.md).
const (
	wireVersion = 1
	lineID      = "PPCL"
	maxWireName = 4 * MaxNameRunes
	maxWireText = 4 * MaxRunesLimit
	maxLineSize = maxWireText + maxWireName + 64
)

// lineFormat is the envelope of chat lines.
var lineFormat = fbenvelope.Format{ID: lineID, Version: wireVersion, MaxSize: maxLineSize, Label: "line",
	Malformed: ErrMalformed, BadVersion: ErrVersion}

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
