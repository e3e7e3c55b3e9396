package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func mustHello(t testing.TB, h Hello) []byte {
	t.Helper()
	b, err := AppendHello(nil, h)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var sampleHello = Hello{Version: ProtocolVersion, GameID: "pong", Build: "1", Name: "al",
	Channels: []Channel{{1, "chat"}, {2, "input"}}}

// TestGolden pins the bytes of every control frame kind: changing them is a
// protocol change and needs a ProtocolVersion bump.
func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"hello", mustHello(t, sampleHello), "505001" + "0001" + "04706f6e67" + "0131" + "02616c" + "02" + "010463686174" + "0205696e707574"},
		{"refuse", AppendRefuse(nil, ReasonGameID, "x"), "505002" + "02" + "0178"},
		{"bye", AppendBye(nil), "505003"},
		{"ping", AppendPing(nil, 7, 0x0102030405060708), "505004" + "00000007" + "0102030405060708"},
		{"pong", AppendPong(nil, 7, 9), "505005" + "00000007" + "0000000000000009"},
	}
	for _, tt := range tests {
		if got := hex.EncodeToString(tt.got); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestControlRoundTrip(t *testing.T) {
	tests := []struct {
		frame []byte
		want  Control
	}{
		{mustHello(t, sampleHello), Control{Kind: KindHello, Hello: sampleHello}},
		{mustHello(t, Hello{Version: 9}), Control{Kind: KindHello, Hello: Hello{Version: 9}}},
		{AppendRefuse(nil, ReasonChannels, "labels differ"), Control{Kind: KindRefuse, Reason: ReasonChannels, Detail: "labels differ"}},
		{AppendBye(nil), Control{Kind: KindBye}},
		{AppendPing(nil, 1, 2), Control{Kind: KindPing, Seq: 1, Time: 2}},
		{AppendPong(nil, 3, 4), Control{Kind: KindPong, Seq: 3, Time: 4}},
	}
	for _, tt := range tests {
		got, err := DecodeControl(tt.frame)
		if err != nil {
			t.Errorf("DecodeControl(%x): %v", tt.frame, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("DecodeControl(%x) = %+v, want %+v", tt.frame, got, tt.want)
		}
	}
}

func TestDecodeControlRejects(t *testing.T) {
	hello := mustHello(t, sampleHello)
	tests := map[string][]byte{
		"empty":         nil,
		"bad magic":     []byte("XP\x03"),
		"unknown kind":  []byte("PP\x09"),
		"short hello":   hello[:len(hello)-1],
		"short ping":    AppendPing(nil, 1, 2)[:10],
		"too many chan": append(hello[:3+2+5+2+3], 200),
		"huge":          make([]byte, MaxControlFrame+1),
	}
	for name, p := range tests {
		if _, err := DecodeControl(p); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got err %v, want ErrMalformed", name, err)
		}
	}
}

func TestAppendHelloLimits(t *testing.T) {
	long := string(make([]byte, MaxString+1))
	if _, err := AppendHello(nil, Hello{GameID: long}); err == nil {
		t.Error("long game ID: got nil error")
	}
	if _, err := AppendHello(nil, Hello{Channels: make([]Channel, MaxChannels+1)}); err == nil {
		t.Error("too many channels: got nil error")
	}
	if got := len(AppendRefuse(nil, ReasonTimeout, long)); got != 3+1+1+MaxString {
		t.Errorf("refuse with long detail: %d bytes, want detail cut to %d", got, MaxString)
	}
}

func chunk(t testing.TB, p []byte) [][]byte {
	t.Helper()
	var frames [][]byte
	_, err := Chunks(nil, p, func(f []byte) error {
		if len(f) > ChunkSize {
			t.Fatalf("frame of %d bytes exceeds ChunkSize", len(f))
		}
		frames = append(frames, append([]byte(nil), f...))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return frames
}

func TestChunksRoundTrip(t *testing.T) {
	sizes := []int{0, 1, ChunkSize - 2, ChunkSize - 1, ChunkSize, ChunkSize + 1,
		2*ChunkSize - firstHeader - 1, 2*ChunkSize - firstHeader, 1 << 20, 3<<20 + 17}
	for _, n := range sizes {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(i*7 + i>>11)
		}
		frames := chunk(t, p)
		wantFrames := 1
		if n >= ChunkSize {
			wantFrames = 1 + (n-(ChunkSize-firstHeader)+ChunkSize-2)/(ChunkSize-1)
		}
		if len(frames) != wantFrames {
			t.Errorf("size %d: %d frames, want %d", n, len(frames), wantFrames)
		}
		var r Reassembler
		var got []byte
		for i, f := range frames {
			msg, done, err := r.Feed(f)
			if err != nil {
				t.Fatalf("size %d frame %d: %v", n, i, err)
			}
			if done != (i == len(frames)-1) {
				t.Fatalf("size %d frame %d of %d: done=%v", n, i, len(frames), done)
			}
			got = msg
		}
		if !bytes.Equal(got, p) {
			t.Errorf("size %d: message changed in reassembly", n)
		}
		if r.Pending() != 0 {
			t.Errorf("size %d: %d bytes pending after a complete message", n, r.Pending())
		}
	}
}

func TestReassemblerRejects(t *testing.T) {
	big := chunk(t, make([]byte, 3*ChunkSize))
	first, middle, last := big[0], big[1], big[len(big)-1]
	tests := []struct {
		name   string
		max    int
		frames [][]byte
	}{
		{"empty frame", 0, [][]byte{{}}},
		{"unknown kind", 0, [][]byte{{9, 1}}},
		{"middle first", 0, [][]byte{middle}},
		{"last first", 0, [][]byte{last}},
		{"first twice", 0, [][]byte{first, first}},
		{"whole inside", 0, [][]byte{first, {ChunkWhole, 1}}},
		{"over max", ChunkSize, [][]byte{first}},
		{"whole over max", 2, [][]byte{{ChunkWhole, 1, 2, 3}}},
		{"short first", 0, [][]byte{{ChunkFirst, 0, 0}}},
		{"first holds all", 0, [][]byte{{ChunkFirst, 0, 0, 0, 1, 7}}},
		{"early last", 0, [][]byte{first, last}},
		{"overrun", 0, [][]byte{first, middle, middle, middle, middle}},
		{"oversize frame", 0, [][]byte{make([]byte, ChunkSize+1)}},
	}
	for _, tt := range tests {
		r := Reassembler{Max: tt.max}
		var err error
		for _, f := range tt.frames {
			var done bool
			_, done, err = r.Feed(f)
			if done {
				t.Errorf("%s: got a message", tt.name)
			}
			if err != nil {
				break
			}
		}
		want := ErrMalformed
		if strings.Contains(tt.name, "over max") {
			want = ErrTooLarge
		}
		if !errors.Is(err, want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, want)
		}
		// The reassembler recovers: a whole message goes through next.
		if msg, done, err := r.Feed([]byte{ChunkWhole, 42}); err != nil || !done || !bytes.Equal(msg, []byte{42}) {
			t.Errorf("%s: after the error, whole frame gave %v, %v", tt.name, msg, err)
		}
	}
}

func TestChunksStopsAtError(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	_, err := Chunks(nil, make([]byte, 5*ChunkSize), func([]byte) error { calls++; return boom })
	if !errors.Is(err, boom) || calls != 1 {
		t.Errorf("got err %v after %d calls, want boom after 1", err, calls)
	}
}

func FuzzDecodeControl(f *testing.F) {
	f.Add(mustHello(f, sampleHello))
	f.Add(AppendRefuse(nil, ReasonVersion, "v2"))
	f.Add(AppendBye(nil))
	f.Add(AppendPing(nil, 1, 2))
	f.Add(AppendPong(nil, 1, 2))
	f.Fuzz(func(t *testing.T, p []byte) {
		c, err := DecodeControl(p)
		if err != nil {
			return
		}
		// A decoded Hello re-encodes to a frame that decodes the same.
		if c.Kind == KindHello {
			b, err := AppendHello(nil, c.Hello)
			if err != nil {
				t.Fatalf("re-encode: %v", err)
			}
			c2, err := DecodeControl(b)
			if err != nil || !reflect.DeepEqual(c, c2) {
				t.Fatalf("round trip: %+v, %v; want %+v", c2, err, c)
			}
		}
	})
}

func FuzzReassembler(f *testing.F) {
	for _, fr := range chunk(f, make([]byte, 2*ChunkSize)) {
		f.Add(fr[:min(len(fr), 64)], byte(2))
	}
	f.Add([]byte{ChunkWhole, 1, 2, 3}, byte(1))
	f.Add([]byte{ChunkFirst, 0, 0, 0, 8, 1, 2, 3}, byte(3))
	f.Fuzz(func(t *testing.T, data []byte, split byte) {
		// Cut data into frames of 1..split+1 bytes and feed them all.
		r := Reassembler{Max: 1 << 16}
		step := int(split)%32 + 1
		for len(data) > 0 {
			n := min(step, len(data))
			before, need := r.Held(), r.Need(data[:n])
			msg, done, err := r.Feed(data[:n])
			// Need covers what Feed allocated: a budget charged with it
			// is never exceeded.
			got := r.Held()
			if done {
				got += cap(msg)
			}
			if got > before+need {
				t.Fatalf("frame %x: held %d + message %d > %d before + need %d", data[:min(n, 8)], r.Held(), cap(msg), before, need)
			}
			if r.Held() > r.Max {
				t.Fatalf("held %d exceeds max %d", r.Held(), r.Max)
			}
			if err == nil && done && len(msg) > r.Max {
				t.Fatalf("message of %d bytes exceeds max %d", len(msg), r.Max)
			}
			if r.Pending() > r.Max {
				t.Fatalf("pending %d exceeds max %d", r.Pending(), r.Max)
			}
			data = data[n:]
		}
	})
}

// TestGoldenChunks pins the chunk framing as netcode/PROTOCOL.md shows it.
func TestGoldenChunks(t *testing.T) {
	frames := func(p []byte) (out [][]byte) {
		if _, err := Chunks(nil, p, func(f []byte) error {
			out = append(out, bytes.Clone(f))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := frames([]byte("abc")); len(got) != 1 || hex.EncodeToString(got[0]) != "00616263" {
		t.Errorf("small message: %x, want one frame 00616263", got)
	}
	if got := frames(bytes.Repeat([]byte{7}, ChunkSize-1)); len(got) != 1 || got[0][0] != ChunkWhole || len(got[0]) != ChunkSize {
		t.Errorf("ChunkSize-1 bytes: %d frames, want one Whole frame of %d bytes", len(got), ChunkSize)
	}
	// 40000 bytes: First (5-byte header + 16379), Middle (1 + 16383),
	// Last (1 + 7238).
	msg := make([]byte, 40000)
	for i := range msg {
		msg[i] = byte(i)
	}
	got := frames(msg)
	want := []struct {
		head string
		size int
	}{{"0100009c40", ChunkSize}, {"02", ChunkSize}, {"03", 1 + 40000 - (ChunkSize - 5) - (ChunkSize - 1)}}
	if len(got) != len(want) {
		t.Fatalf("40000 bytes: %d frames, want %d", len(got), len(want))
	}
	for i, w := range want {
		if h := hex.EncodeToString(got[i][:len(w.head)/2]); h != w.head || len(got[i]) != w.size {
			t.Errorf("frame %d: header %s, %d bytes; want %s, %d bytes", i, h, len(got[i]), w.head, w.size)
		}
	}
	if h := hex.EncodeToString(got[0][5:9]); h != "00010203" {
		t.Errorf("first payload bytes %s, want 00010203", h)
	}
}

// TestReassemblerSkipsTooLarge: a message above Max is refused at its
// First frame and its other frames are skipped silently (one error per
// message, nothing buffered); the next message goes through.
func TestReassemblerSkipsTooLarge(t *testing.T) {
	r := Reassembler{Max: ChunkSize}
	frames := append(chunk(t, make([]byte, 3*ChunkSize)), chunk(t, []byte("next"))...)
	errs := 0
	var got [][]byte
	for _, f := range frames {
		if r.Need(f) > 0 && f[0] != ChunkWhole {
			t.Fatalf("Need(%d-byte frame kind %d) = %d inside a refused message", len(f), f[0], r.Need(f))
		}
		msg, done, err := r.Feed(f)
		if err != nil {
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v, want ErrTooLarge", err)
			}
			errs++
		}
		if r.Held() != 0 {
			t.Fatalf("held %d bytes of a refused message", r.Held())
		}
		if done {
			got = append(got, msg)
		}
	}
	if errs != 1 || len(got) != 1 || string(got[0]) != "next" {
		t.Fatalf("%d errors, messages %q; want 1 error and \"next\"", errs, got)
	}
}
