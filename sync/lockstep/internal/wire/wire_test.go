package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"reflect"
	"strconv"
	"testing"

	"github.com/peerplay/peerplay/sync/lockstep/internal/wire/wirefb"
)

// samples returns one Packet of every kind, with every field set.
func samples() map[string]*Packet {
	frame := &Packet{
		Kind: KindFrame, Game: GameTag(0x1122334455667788), Seat: 1, Seq: 42, InputSize: 2, Ping: true,
		Frame: 100, Start: 98, Inputs: []byte{1, 0, 2, 0, 3, 0}, Lost: 0b100, Suspect: 0b101,
		Seats: 3, NumEchoes: 2, NumChecksums: 2,
	}
	frame.Acks[0], frame.Acks[1], frame.Acks[2] = 101, 100, -1
	frame.Echoes[0] = Echo{Seat: 0, Seq: 7000, Hold: 1000}
	frame.Echoes[1] = Echo{Seat: 2, Seq: 9, Hold: MaxHold}
	frame.Checksums[0] = Checksum{Frame: 90, Sum: 0xdeadbeefcafef00d}
	frame.Checksums[1] = Checksum{Frame: 60, Sum: 1}
	// steady is what a seat of a 2-seat game sends on most ticks: one
	// unacknowledged 3-byte input, the other seat's ack, nothing optional.
	steady := &Packet{Kind: KindFrame, Game: GameTag(42), Seat: 0, Seq: 1000, InputSize: 3,
		Frame: 500, Start: 501, Inputs: []byte{1, 2, 3}, Seats: 2}
	steady.Acks[0], steady.Acks[1] = 501, 501
	// rts is an RTS seat's datagram at a 200 ms send interval: 30
	// unacknowledged inputs, two of them commands (runs, version 4).
	rts := &Packet{Kind: KindFrame, Game: GameTag(42), Seat: 1, Seq: 77, InputSize: 3,
		Frame: 520, Start: 500, Inputs: rtsInputs(), Seats: 2}
	rts.Acks[0], rts.Acks[1] = 515, 529
	return map[string]*Packet{
		"frame":   frame,
		"steady":  steady,
		"rts":     rts,
		"relay":   {Kind: KindRelay, Game: 7, Seat: 0, Seq: 9, InputSize: 1, LostSeat: 2, Start: 40, Inputs: []byte{5, 6, 7}},
		"bye":     {Kind: KindBye, Game: 7, Seat: 3, Seq: 10, InputSize: 4, Frame: 1234},
		"dropped": {Kind: KindDropped, Game: 7, Seat: 1, Seq: 11, InputSize: 4, Frame: 777, LostSeat: 2},
	}
}

// golden pins the bytes of every message kind: a change here is a wire
// change (give the schema a new identifier if old peers would misread
// it).
var golden = map[string]string{
	"frame":   "1c00000050504c34140028000400240020001c00180016000000140014000000010101022a00010062000000cc44444405000400340000002000000014000000040000000600000001000200030000000200000001009bff02000000581be80300000900ffff0200020000005a0000000df0fecaefbeadde3c0000000100000000000000",
	"steady":  "1400000050504c3400000a001c000400180014000a00000001000003e8030200f50100002a000000100000000400000003000000010203000100000001000000",
	"rts":     "1400000050504c3400000a001c000400180014000a000000010201034d000a00f40100002a000000200000000400000014000000070000000109010013000000010502000200000001000000fbff0000",
	"relay":   "1c00000050504c34000012001c000400180000000000000000001700120000000200000109000000280000000700000000000002040000000300000005060700",
	"bye":     "1000000050504c34000006001400040006000000030003040a000000d204000007000000",
	"dropped": "1c00000050504c34000012001800040000000000000000000000170012000000040001040b000000090300000700000000000002",
}

// TestSteadySize pins the size of the steady-state 2-seat datagram (one
// unacknowledged 3-byte input, one ack): the wire's headline figure.
// Session-level sizes are pinned in package lockstep (TestDatagramSize).
func TestSteadySize(t *testing.T) {
	buf, err := NewEncoder().Encode(samples()["steady"])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(buf), 64; got != want {
		t.Errorf("steady-state 2-seat datagram: %d bytes, want %d", got, want)
	}
}

func TestGolden(t *testing.T) {
	enc := NewEncoder()
	for name, p := range samples() {
		t.Run(name, func(t *testing.T) {
			buf, err := enc.Encode(p)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if got, want := hex.EncodeToString(buf), golden[name]; got != want {
				t.Errorf("bytes changed:\n got %s\nwant %s", got, want)
			}
			if string(buf[4:8]) != Identifier {
				t.Errorf("identifier = %q, want %q", buf[4:8], Identifier)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	enc := NewEncoder()
	var d Decoder
	for name, p := range samples() {
		t.Run(name, func(t *testing.T) {
			buf, err := enc.Encode(p)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			var got Packet
			if err := d.Decode(buf, &got); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !equal(&got, p) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, *p)
			}
		})
	}
}

// equal compares the meaningful fields of two packets.
func equal(a, b *Packet) bool {
	if !bytes.Equal(a.Inputs, b.Inputs) {
		return false
	}
	x, y := *a, *b
	x.Inputs, y.Inputs = nil, nil
	return reflect.DeepEqual(x, y)
}

func TestEncodeRejects(t *testing.T) {
	big := make([]byte, MaxDatagram)
	for i := range big {
		big[i] = byte(i) // no runs: they would fit
	}
	frame := func(f func(p *Packet)) Packet {
		p := *samples()["frame"]
		f(&p)
		return p
	}
	tests := []struct {
		name string
		p    Packet
		want error
	}{
		{"unknown kind", Packet{InputSize: 1}, ErrInvalid},
		{"zero input size", Packet{Kind: KindBye}, ErrInvalid},
		{"ragged inputs", Packet{Kind: KindFrame, InputSize: 2, Inputs: []byte{1, 2, 3}, Seats: 2}, ErrInvalid},
		{"no seats", Packet{Kind: KindFrame, InputSize: 1}, ErrInvalid},
		{"too many seats", Packet{Kind: KindFrame, InputSize: 1, Seats: MaxSeats + 1}, ErrInvalid},
		{"sender not seated", Packet{Kind: KindFrame, InputSize: 1, Seats: 2, Seat: 2}, ErrInvalid},
		{"too many checksums", frame(func(p *Packet) { p.NumChecksums = MaxChecksums + 1 }), ErrInvalid},
		{"too many echoes", frame(func(p *Packet) { p.NumEchoes = MaxSeats + 1 }), ErrInvalid},
		{"echo seat", frame(func(p *Packet) { p.Echoes[0].Seat = MaxSeats }), ErrInvalid},
		{"checksum frame", frame(func(p *Packet) { p.Checksums[1].Frame = -1 }), ErrInvalid},
		{"frame after inputs", frame(func(p *Packet) { p.Frame = p.Start + 4 }), ErrInvalid},
		{"lead too long", frame(func(p *Packet) { p.Start, p.Frame = MaxLead+10, 0 }), ErrInvalid},
		{"ack below -1", frame(func(p *Packet) { p.Acks[0] = -2 }), ErrInvalid},
		{"ack too far ahead", frame(func(p *Packet) { p.Acks[0] = p.Frame + MaxAckAhead + 1 }), ErrInvalid},
		{"frames past MaxFrame", frame(func(p *Packet) { p.Start, p.Frame = MaxFrame-1, MaxFrame-1 }), ErrInvalid},
		{"seat out of range", Packet{Kind: KindBye, InputSize: 1, Seat: MaxSeats}, ErrInvalid},
		{"negative start", Packet{Kind: KindRelay, InputSize: 1, Start: -1}, ErrInvalid},
		{"relay seat", Packet{Kind: KindRelay, InputSize: 1, LostSeat: MaxSeats}, ErrInvalid},
		{"bye frame", Packet{Kind: KindBye, InputSize: 1, Frame: -1}, ErrInvalid},
		{"too large", Packet{Kind: KindRelay, InputSize: 1, Inputs: big}, ErrTooLarge},
	}
	enc := NewEncoder()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := enc.Encode(&tt.p); !errors.Is(err, tt.want) {
				t.Errorf("Encode = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestAckUnknown: an ack too far below the sender's frame to fit the
// 16-bit delta (a dropped seat's frozen holdings) decodes as -1, which
// the receiver's max-merge ignores.
func TestAckUnknown(t *testing.T) {
	p := *samples()["frame"]
	p.Start, p.Frame = 200_000, 200_000+3-1
	p.Acks[0], p.Acks[2] = 5, p.Frame-MaxAckAhead
	p.Acks[1] = p.Start + 3 - 1
	buf, err := NewEncoder().Encode(&p)
	if err != nil {
		t.Fatal(err)
	}
	var d Decoder
	var got Packet
	if err := d.Decode(buf, &got); err != nil {
		t.Fatal(err)
	}
	if got.Acks[0] != -1 || got.Acks[2] != p.Acks[2] {
		t.Errorf("acks = %d, %d; want -1 (unknown), %d", got.Acks[0], got.Acks[2], p.Acks[2])
	}
}

// headAt returns the offset of the Head struct in a valid datagram.
func headAt(t *testing.T, buf []byte) int {
	t.Helper()
	h := wirefb.GetRootAsPacket(buf, 0).Head(nil)
	if h == nil {
		t.Fatal("no head")
	}
	return int(h.Table().Pos)
}

func TestDecodeRejects(t *testing.T) {
	enc := NewEncoder()
	valid := func(name string) []byte {
		buf, err := enc.Encode(samples()[name])
		if err != nil {
			t.Fatal(err)
		}
		return append([]byte(nil), buf...)
	}
	mutate := func(name string, f func([]byte)) []byte {
		b := valid(name)
		f(b)
		return b
	}
	// Head fields, by offset in the struct (see lockstep.fbs).
	head := func(name string, f func(h []byte)) []byte {
		b := valid(name)
		f(b[headAt(t, b):])
		return b
	}
	tests := []struct {
		name string
		buf  []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"short", []byte("\x08\x00\x00\x00PPL4"), ErrMalformed},
		{"oversize", make([]byte, MaxDatagram+1), ErrTooLarge},
		{"wrong identifier", mutate("bye", func(b []byte) { b[4] = 'X' }), ErrMalformed},
		{"version 1", mutate("bye", func(b []byte) { b[7] = 'S' }), ErrVersion},
		{"version 2", mutate("steady", func(b []byte) { b[7] = '2' }), ErrVersion},
		{"version 3", mutate("steady", func(b []byte) { b[7] = '3' }), ErrVersion},
		{"version 5", mutate("steady", func(b []byte) { b[7] = '5' }), ErrVersion},
		{"root past end", mutate("bye", func(b []byte) { binary.LittleEndian.PutUint32(b, uint32(len(b))) }), ErrMalformed},
		{"root in header", mutate("bye", func(b []byte) { binary.LittleEndian.PutUint32(b, 4) }), ErrMalformed},
		{"truncated", valid("frame")[:40], ErrMalformed},
		{"zeroed tables", mutate("frame", func(b []byte) { clear(b[8:]) }), ErrMalformed},
		{"unknown kind", head("steady", func(h []byte) { h[0] = 5 }), ErrMalformed},
		{"unknown flag", head("steady", func(h []byte) { h[1] = 2 }), ErrMalformed},
		{"seat out of range", head("bye", func(h []byte) { h[2] = MaxSeats }), ErrMalformed},
		{"sender not seated", head("steady", func(h []byte) { h[2] = 2 }), ErrMalformed},
		{"zero input size", head("bye", func(h []byte) { h[3] = 0 }), ErrMalformed},
		{"ragged inputs", head("steady", func(h []byte) { h[3] = 2 }), ErrMalformed},
		{"negative frame", head("steady", func(h []byte) { binary.LittleEndian.PutUint16(h[6:], 1000) }), ErrMalformed},
		{"negative start", head("relay", func(h []byte) { binary.LittleEndian.PutUint32(h[8:], 1<<31) }), ErrMalformed},
		{"start past MaxFrame", head("steady", func(h []byte) { binary.LittleEndian.PutUint32(h[8:], MaxFrame) }), ErrMalformed},
	}
	var d Decoder
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			if err := d.Decode(tt.buf, &p); !errors.Is(err, tt.want) {
				t.Errorf("Decode = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestDecodeVersion1: a real version-1 datagram (golden bytes of the
// version-1 Frame) is reported as another version, not as garbage.
func TestDecodeVersion1(t *testing.T) {
	const v1 = "1c00000050504c53000012001c000a00140007000c000800060010001200000000000101020001002a0000002000000088776655443322111400240010000c00080020001c0018001400040014000000040000006200000040e20100640000003c0000001c0000000800000058000000030000006500000067000000ffffffff03000000581b0000803e000000000000ffffffff09000000ffffffff020000000df0fecaefbeadde5a0000000000000001000000000000003c0000000000000000000000060000000100020003000000"
	var d Decoder
	var p Packet
	if err := d.Decode(hexBytes(t, v1), &p); !errors.Is(err, ErrVersion) {
		t.Errorf("Decode(v1 frame) = %v, want %v", err, ErrVersion)
	}
}

func hexBytes(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecodeWithinLen: bytes past len(buf), even if within cap(buf), are
// never read: a truncated datagram is rejected, unless only trailing
// padding was cut, and then it decodes to the same packet.
func TestDecodeWithinLen(t *testing.T) {
	for name, hx := range golden {
		full := hexBytes(t, hx)
		var d Decoder
		var want Packet
		if err := d.Decode(full, &want); err != nil {
			t.Fatal(err)
		}
		for n := minDatagram; n < len(full); n++ {
			// Garbage after len(b), within cap(b).
			b := make([]byte, len(full)+64)
			for i := range b {
				b[i] = 0xAA
			}
			copy(b, full[:n])
			var p Packet
			if err := d.Decode(b[:n], &p); err == nil && !equal(&p, &want) {
				t.Errorf("%s: Decode(first %d of %d bytes) read past len", name, n, len(full))
			}
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	enc := NewEncoder()
	var d Decoder
	var got Packet
	for _, name := range []string{"frame", "rts"} { // raw inputs, runs
		p := samples()[name]
		allocs := testing.AllocsPerRun(200, func() {
			buf, err := enc.Encode(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Decode(buf, &got); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: Encode+Decode allocs = %v, want 0", name, allocs)
		}
	}
	var allocs float64
	bad := make([]byte, 64)
	copy(bad, "\x30\x00\x00\x00PPLS")
	allocs = testing.AllocsPerRun(200, func() { _ = d.Decode(bad, &got) })
	if allocs != 0 {
		t.Errorf("Decode(malformed) allocs = %v, want 0", allocs)
	}
}

// FuzzDecode: Decode never panics, and whatever it accepts re-encodes to
// a datagram that decodes to the same Packet.
func FuzzDecode(f *testing.F) {
	enc := NewEncoder()
	for _, p := range samples() {
		buf, err := enc.Encode(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append([]byte(nil), buf...))
	}
	f.Add([]byte("\x08\x00\x00\x00PPLS\x00\x00\x00\x00\x00\x00\x00\x00"))
	// A vector whose length reaches past len(buf) but within cap(buf) must
	// be rejected (found by this fuzz test: slices may extend to cap).
	f.Add(hexBytes(f, golden["relay"])[:56])
	f.Fuzz(func(t *testing.T, buf []byte) {
		var d Decoder
		var p Packet
		if err := d.Decode(buf, &p); err != nil {
			return
		}
		again, err := enc.Encode(&p)
		if err != nil {
			t.Fatalf("decoded packet does not re-encode: %v (kind %v, %d input bytes)", err, p.Kind, len(p.Inputs))
		}
		var q Packet
		var d2 Decoder // p.Inputs may alias d
		if err := d2.Decode(again, &q); err != nil {
			t.Fatalf("re-encoded packet does not decode: %v", err)
		}
		if !equal(&p, &q) {
			t.Fatalf("re-decode differs: kind %v/%v, %d/%d input bytes", q.Kind, p.Kind, len(q.Inputs), len(p.Inputs))
		}
	})
}

// benchPacket is a steady-state Frame datagram of an N-seat game: k
// unacknowledged 3-byte inputs and an ack of every other seat; with
// extras, also an echo of every other seat's ping and a checksum (what
// the session adds to some datagrams: one in four for echoes, three in
// thirty for checksums).
func benchPacket(seats, k int, extras bool) *Packet {
	p := &Packet{Kind: KindFrame, Game: GameTag(42), Seat: 1, Seq: 1000, InputSize: 3, Frame: 500,
		Start: 500, Inputs: make([]byte, k*3), Seats: seats}
	for i := range seats {
		p.Acks[i] = 499 + int32(i)
	}
	if extras {
		for i := range seats {
			if i != int(p.Seat) {
				p.Echoes[p.NumEchoes] = Echo{Seat: uint8(i), Seq: 2000 + uint16(i), Hold: 250}
				p.NumEchoes++
			}
		}
		p.Checksums[0] = Checksum{Frame: 480, Sum: 0x1234}
		p.NumChecksums = 1
	}
	return p
}

// benchCases: "Nseats" is a busy datagram (8 unacknowledged inputs, the
// acks, an echo of every other seat, a checksum), "Nseats-steady" the
// common one (one input, the acks).
func benchCases() []struct {
	name string
	p    *Packet
} {
	var cs []struct {
		name string
		p    *Packet
	}
	for _, seats := range []int{2, 4, 8} {
		n := strconv.Itoa(seats) + "seats"
		cs = append(cs, struct {
			name string
			p    *Packet
		}{n, benchPacket(seats, 8, true)}, struct {
			name string
			p    *Packet
		}{n + "-steady", benchPacket(seats, 1, false)})
	}
	return cs
}

// BenchmarkEncode: one op encodes one Frame datagram (reused Builder);
// bytes is its size.
func BenchmarkEncode(b *testing.B) {
	for _, c := range benchCases() {
		b.Run(c.name, func(b *testing.B) {
			enc := NewEncoder()
			var n int
			b.ReportAllocs()
			for b.Loop() {
				buf, err := enc.Encode(c.p)
				if err != nil {
					b.Fatal(err)
				}
				n = len(buf)
			}
			b.ReportMetric(float64(n), "bytes")
		})
	}
}

// BenchmarkDecode: one op decodes one Frame datagram (reused accessors,
// recover included).
func BenchmarkDecode(b *testing.B) {
	for _, c := range benchCases() {
		b.Run(c.name, func(b *testing.B) {
			buf, err := NewEncoder().Encode(c.p)
			if err != nil {
				b.Fatal(err)
			}
			buf = append([]byte(nil), buf...)
			var d Decoder
			var p Packet
			b.ReportAllocs()
			for b.Loop() {
				if err := d.Decode(buf, &p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
