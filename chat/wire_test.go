package chat

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/peerplay/peerplay/chat/internal/chatfb"
	"github.com/peerplay/peerplay/internal/meshtest"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.txt")

var lineSamples = []struct {
	name string
	l    line
}{
	{"line-text", line{kind: chatfb.KindText, text: "gl hf", name: "alice", team: 2}},
	{"line-profile", line{kind: chatfb.KindProfile, name: "bob", team: -1}},
}

func encodeLineBytes(l line) []byte { return bytes.Clone(encodeLine(flatbuffers.NewBuilder(64), l)) }

func TestGolden(t *testing.T) {
	var wires []meshtest.Wire
	for _, s := range lineSamples {
		wires = append(wires, meshtest.Wire{Name: s.name, Bytes: encodeLineBytes(s.l)})
	}
	meshtest.Golden(t, "testdata/golden.txt", *update, wires)
}

func TestRoundTrip(t *testing.T) {
	for _, s := range lineSamples {
		l, err := decodeLine(encodeLineBytes(s.l))
		if err != nil || l != s.l {
			t.Errorf("%s: got %+v, %v; want %+v", s.name, l, err, s.l)
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
		{"identifier", raw(1, chatfb.KindText, "x", "PPBS"), ErrMalformed},
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
