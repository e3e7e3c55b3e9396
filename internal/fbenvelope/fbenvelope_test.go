package fbenvelope_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/peerplay/peerplay/internal/fbenvelope"
)

var (
	errMalformed = errors.New("test: malformed")
	errVersion   = errors.New("test: version")
)

// note is a root table written by hand the way flatc writes one:
// table Note { version: ubyte; text: string; }
type note struct{ tab flatbuffers.Table }

func (n *note) Init(buf []byte, i flatbuffers.UOffsetT) { n.tab.Bytes, n.tab.Pos = buf, i }

func (n *note) Version() byte {
	if o := flatbuffers.UOffsetT(n.tab.Offset(4)); o != 0 {
		return n.tab.GetByte(o + n.tab.Pos)
	}
	return 0
}

func (n *note) Text() []byte {
	if o := flatbuffers.UOffsetT(n.tab.Offset(6)); o != 0 {
		return n.tab.ByteVector(o + n.tab.Pos)
	}
	return nil
}

func encodeNote(version byte, text, id string) []byte {
	b := flatbuffers.NewBuilder(64)
	s := b.CreateString(text)
	b.StartObject(2)
	b.PrependByteSlot(0, version, 0)
	b.PrependUOffsetTSlot(1, s, 0)
	b.FinishWithFileIdentifier(b.EndObject(), []byte(id))
	return b.FinishedBytes()
}

var noteFormat = fbenvelope.Format{ID: "NOTE", Version: 1, MaxSize: 256, Malformed: errMalformed, BadVersion: errVersion}

// readNote refuses the text "bad" and panics on "boom", as a reader that
// trusts an offset would.
func readNote(n *note) (string, error) {
	switch s := string(n.Text()); s {
	case "bad":
		return "", errors.New("bad text")
	case "boom":
		panic("boom")
	default:
		return s, nil
	}
}

func TestDecode(t *testing.T) {
	valid := encodeNote(1, "hello there", "NOTE")
	tests := []struct {
		name    string
		data    []byte
		want    string
		wantErr error
		wantMsg string // the whole error text, if set
	}{
		{name: "valid", data: valid, want: "hello there"},
		{name: "empty", data: nil, wantErr: errMalformed, wantMsg: "test: malformed: size 0"},
		{name: "short", data: valid[:fbenvelope.MinSize-1], wantErr: errMalformed, wantMsg: "test: malformed: size 11"},
		{name: "huge", data: make([]byte, 257), wantErr: errMalformed, wantMsg: "test: malformed: size 257"},
		{name: "identifier", data: encodeNote(1, "x", "XXXX"), wantErr: errMalformed, wantMsg: "test: malformed: bad file identifier"},
		{name: "version 2", data: encodeNote(2, "x", "NOTE"), wantErr: errVersion, wantMsg: "test: version: 2"},
		{name: "version 0", data: encodeNote(0, "x", "NOTE"), wantErr: errVersion, wantMsg: "test: version: 0"},
		{name: "root offset low", data: append([]byte{4, 0, 0, 0}, valid[4:]...), wantErr: errMalformed, wantMsg: "test: malformed: root offset 4"},
		{name: "root offset high", data: append([]byte{0xff, 0xff, 0, 0}, valid[4:]...), wantErr: errMalformed, wantMsg: "test: malformed: root offset 65535"},
		{name: "truncated", data: valid[: len(valid)-8 : len(valid)-8], wantErr: errMalformed}, // no capacity past the end
		{name: "reader refuses", data: encodeNote(1, "bad", "NOTE"), wantErr: errMalformed, wantMsg: "test: malformed: bad text"},
		{name: "reader panics", data: encodeNote(1, "boom", "NOTE"), wantErr: errMalformed, wantMsg: "test: malformed: boom"},
	}
	for _, tt := range tests {
		got, err := fbenvelope.Decode(noteFormat, tt.data, readNote)
		if got != tt.want || !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
			t.Errorf("%s: got %q, %v; want %q, %v", tt.name, got, err, tt.want, tt.wantErr)
			continue
		}
		if errors.Is(err, errMalformed) && errors.Is(err, errVersion) {
			t.Errorf("%s: %v wraps both sentinels", tt.name, err)
		}
		if tt.wantMsg != "" && err.Error() != tt.wantMsg {
			t.Errorf("%s: error %q, want %q", tt.name, err, tt.wantMsg)
		}
	}
}

func TestDecodeLabel(t *testing.T) {
	f := noteFormat
	f.Label = "line"
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"size", []byte("NOTE"), "test: malformed: line size 4"},
		{"identifier", encodeNote(1, "x", "XXXX"), "test: malformed: bad line identifier"},
		{"version", encodeNote(3, "x", "NOTE"), "test: version: line 3"},
		{"root offset", append([]byte{0xff, 0xff, 0, 0}, encodeNote(1, "x", "NOTE")[4:]...), "test: malformed: root offset 65535"},
	}
	for _, tt := range tests {
		if _, err := fbenvelope.Decode(f, tt.data, readNote); err == nil || err.Error() != tt.want {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

// An offset or a length pointing past the end of the message is refused,
// even when the slice has capacity beyond it (a transport's reused or
// rounded-up buffer): the bytes there are not the sender's message.
func TestDecodeStaysWithinMessage(t *testing.T) {
	valid := encodeNote(1, "hi", "NOTE")
	i := bytes.Index(valid, []byte{2, 0, 0, 0, 'h', 'i'}) // the text's length field
	if i < 0 {
		t.Fatal("text not found")
	}
	spare := []byte("SECRET, someone else's bytes")
	buf := append(append(make([]byte, 0, len(valid)+len(spare)), valid...), spare...)[:len(valid)]
	buf[i] = byte(len(valid) - i - 4 + len(spare)) // the text runs on into the spare capacity
	if got, err := fbenvelope.Decode(noteFormat, buf, readNote); !errors.Is(err, errMalformed) {
		t.Errorf("got %q, %v; want ErrMalformed", got, err)
	}
}

// The reader only ever sees a message whose envelope passed every check.
func TestDecodeReadsOnlyCheckedMessages(t *testing.T) {
	calls := 0
	read := func(n *note) (string, error) {
		calls++
		return readNote(n)
	}
	for _, data := range [][]byte{nil, []byte("0123456789ab"), encodeNote(1, "x", "XXXX"), encodeNote(2, "x", "NOTE"),
		append([]byte{0xff, 0xff, 0, 0}, encodeNote(1, "x", "NOTE")[4:]...)} {
		if _, err := fbenvelope.Decode(noteFormat, data, read); err == nil {
			t.Errorf("%x decoded", data)
		}
	}
	if calls != 0 {
		t.Errorf("reader called %d times, want 0", calls)
	}
	if _, err := fbenvelope.Decode(noteFormat, encodeNote(1, "x", "NOTE"), read); err != nil || calls != 1 {
		t.Errorf("valid note: err %v, %d calls; want nil, 1", err, calls)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"", "hello there", "bad", "boom", strings.Repeat("x", 100)} {
		f.Add(encodeNote(1, s, "NOTE"))
	}
	f.Add(encodeNote(2, "x", "NOTE"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := fbenvelope.Decode(noteFormat, data, readNote)
		if err != nil {
			if errors.Is(err, errMalformed) == errors.Is(err, errVersion) {
				t.Fatalf("error %v wraps neither or both sentinels", err)
			}
			return
		}
		if len(s) > len(data) {
			t.Fatalf("decoded %d bytes of text from %d bytes", len(s), len(data))
		}
	})
}
