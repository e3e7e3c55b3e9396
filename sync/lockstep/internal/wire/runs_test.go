package wire

import (
	"bytes"
	"errors"
	"testing"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/peerplay/peerplay/sync/lockstep/internal/wire/wirefb"
)

// rtsInputs is what an RTS player's datagram carries at a 200 ms send
// interval: 30 unacknowledged 3-byte inputs, the zero input but for two
// commands.
func rtsInputs() []byte {
	in := make([]byte, 30*3)
	copy(in[7*3:], []byte{9, 1, 0})
	copy(in[27*3:], []byte{5, 2, 0})
	return in
}

// TestRunsShrinkRTS: inputs that repeat go on the wire as runs (5 runs
// of 4 bytes instead of 90 raw bytes), inputs that change every frame
// stay raw (runs would cost a byte more per input), and both decode to
// the same raw inputs.
func TestRunsShrinkRTS(t *testing.T) {
	changing := make([]byte, 30*3)
	for i := range changing {
		changing[i] = byte(i)
	}
	enc := NewEncoder()
	var d Decoder
	for _, tt := range []struct {
		name   string
		inputs []byte
		runs   bool
		body   int // bytes of the inputs vector's content
	}{
		{"rts", rtsInputs(), true, 5 * 4},
		{"changing", changing, false, 90},
		{"one", []byte{1, 2, 3}, false, 3},
		{"two equal", []byte{1, 2, 3, 1, 2, 3}, true, 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := *samples()["steady"]
			p.Inputs = tt.inputs
			p.Frame = p.Start + int32(len(tt.inputs)/3)
			p.Acks[p.Seat] = p.Frame - 1
			buf, err := enc.Encode(&p)
			if err != nil {
				t.Fatal(err)
			}
			raw := *samples()["steady"]
			rawBuf, _ := NewEncoder().Encode(&raw)
			var got Packet
			if err := d.Decode(buf, &got); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !equal(&got, &p) {
				t.Errorf("round trip: got %d input bytes %x, want %x", len(got.Inputs), got.Inputs, p.Inputs)
			}
			h := wirefb.GetRootAsPacket(buf, 0).Head(nil)
			if runs := h.Flags()&wirefb.FlagsRuns != 0; runs != tt.runs {
				t.Errorf("runs flag = %v, want %v", runs, tt.runs)
			}
			if got := len(wirefb.GetRootAsPacket(buf, 0).InputsBytes()); got != tt.body {
				t.Errorf("inputs vector %d bytes, want %d (datagram %d bytes, one raw input %d)", got, tt.body, len(buf), len(rawBuf))
			}
		})
	}
}

// craft builds a Frame or Relay datagram with an inputs vector and
// flags of the test's choosing, bypassing Encode's checks: what a lying
// peer can send.
func craft(kind Kind, flags wirefb.Flags, isize uint8, start int32, lead uint16, inputs []byte) []byte {
	b := flatbuffers.NewBuilder(2048)
	var acks flatbuffers.UOffsetT
	if kind == KindFrame {
		wirefb.PacketStartAcksVector(b, 1)
		b.PrependInt16(0)
		acks = b.EndVector(1)
	}
	in := b.CreateByteVector(inputs)
	wirefb.PacketStart(b)
	wirefb.PacketAddInputs(b, in)
	if acks != 0 {
		wirefb.PacketAddAcks(b, acks)
	}
	wirefb.PacketAddHead(b, wirefb.CreateHead(b, wirefb.Kind(kind), flags, 0, isize, 1, lead, start, 7))
	b.FinishWithFileIdentifier(wirefb.PacketEnd(b), []byte(Identifier))
	return b.FinishedBytes()
}

// runsOf concatenates n runs of count × one input of isize bytes.
func runsOf(n, count int, isize int) []byte {
	var out []byte
	for i := range n {
		out = append(out, byte(count))
		for range isize {
			out = append(out, byte(i))
		}
	}
	return out
}

// TestRunsHostile: what a lying peer can do with a run length. Runs
// carry no frame numbers (a run starts where the previous one ended), so
// two runs cannot overlap and none can skip a frame; a run of zero, runs
// that expand beyond what a raw datagram could carry (a 20-byte
// datagram claiming thousands of frames), ragged runs, runs on kinds
// without inputs, and runs that reach past MaxFrame are malformed, and
// decoding them allocates nothing.
func TestRunsHostile(t *testing.T) {
	runs := wirefb.FlagsRuns
	tests := []struct {
		name string
		buf  []byte
		want error
	}{
		{"zero-length run", craft(KindFrame, runs, 3, 10, 0, append(runsOf(1, 4, 3), runsOf(1, 0, 3)...)), ErrMalformed},
		{"expands past MaxDatagram", craft(KindFrame, runs, 1, 10, 0, runsOf(5, 255, 1)), ErrMalformed},
		{"huge input size", craft(KindRelay, runs, 255, 10, 0, runsOf(1, 5, 255)), ErrMalformed},
		{"ragged runs", craft(KindFrame, runs, 3, 10, 0, runsOf(2, 3, 3)[:7]), ErrMalformed},
		{"runs flag without inputs", craft(KindFrame, runs, 3, 10, 0, nil), ErrMalformed},
		{"runs past MaxFrame", craft(KindRelay, runs, 1, MaxFrame-10, 0, runsOf(1, 11, 1)), ErrMalformed},
		{"runs past MaxFrame (frame)", craft(KindFrame, runs, 1, MaxFrame-10, 11, runsOf(1, 11, 1)), ErrMalformed},
		{"lead beyond the runs", craft(KindFrame, runs, 3, 0, 5, runsOf(1, 4, 3)), ErrMalformed},
	}
	var d Decoder
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			if err := d.Decode(tt.buf, &p); !errors.Is(err, tt.want) {
				t.Errorf("Decode = %v (%d inputs), want %v", err, p.NumInputs(), tt.want)
			}
			if a := testing.AllocsPerRun(50, func() { _ = d.Decode(tt.buf, &p) }); a != 0 {
				t.Errorf("Decode allocs = %v, want 0", a)
			}
		})
	}
	// The largest expansion accepted is what a raw datagram could carry.
	ok := craft(KindRelay, runs, 1, 10, 0, runsOf(4, 255, 1))
	var p Packet
	if err := d.Decode(ok, &p); err != nil || p.NumInputs() != 1020 {
		t.Errorf("4 runs of 255: %v, %d inputs; want 1020", err, p.NumInputs())
	}
	// A second Decode does not change what the first one's Inputs held
	// only if the caller copied them: Inputs aliases the Decoder.
	first := bytes.Clone(p.Inputs)
	if err := d.Decode(craft(KindRelay, runs, 1, 10, 0, runsOf(1, 3, 1)), &p); err != nil || !bytes.Equal(p.Inputs, []byte{0, 0, 0}) {
		t.Errorf("second decode: %v, %x", err, p.Inputs)
	}
	if len(first) != 1020 {
		t.Errorf("first decode kept %d bytes", len(first))
	}
}

// TestDecodeVersion3: a version-3 datagram (the golden steady Frame of
// that version) is reported as another version, not as garbage, so the
// session counts it as such.
func TestDecodeVersion3(t *testing.T) {
	const v3 = "1400000050504c3300000a001c000400180014000a00000001000003e8030200f50100002a000000100000000400000003000000010203000100000001000000"
	var d Decoder
	var p Packet
	if err := d.Decode(hexBytes(t, v3), &p); !errors.Is(err, ErrVersion) {
		t.Errorf("Decode(v3 frame) = %v, want %v", err, ErrVersion)
	}
}

// FuzzRuns: runs round-trip any raw inputs, are used only when smaller,
// and expanding arbitrary bytes never writes past the bound nor panics.
func FuzzRuns(f *testing.F) {
	f.Add(rtsInputs(), uint8(3))
	f.Add([]byte{1, 1, 1, 1}, uint8(1))
	f.Add([]byte{}, uint8(3))
	f.Add(runsOf(5, 255, 1), uint8(1))
	f.Fuzz(func(t *testing.T, in []byte, size uint8) {
		if size == 0 {
			return
		}
		var dst [MaxDatagram]byte
		if raw, ok := expandRuns(dst[:], in, int(size)); ok && (len(raw) > MaxDatagram || len(raw)%int(size) != 0) {
			t.Fatalf("expanded %d bytes", len(raw))
		}
		if len(in) > MaxDatagram {
			return
		}
		in = in[:len(in)-len(in)%int(size)]
		var scratch [MaxDatagram]byte
		r := appendRuns(scratch[:], in, int(size))
		if r == nil {
			return
		}
		if len(r) >= len(in) {
			t.Fatalf("runs %d bytes for %d raw", len(r), len(in))
		}
		raw, ok := expandRuns(dst[:], r, int(size))
		if !ok || !bytes.Equal(raw, in) {
			t.Fatalf("round trip: %v %x != %x", ok, raw, in)
		}
	})
}
