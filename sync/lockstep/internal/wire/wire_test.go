package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"reflect"
	"strconv"
	"testing"
)

// samples returns one Packet of every kind, with every field set.
func samples() map[string]*Packet {
	frame := &Packet{
		Kind: KindFrame, Game: 0x1122334455667788, Seat: 1, Seq: 42, InputSize: 2,
		Frame: 100, Ping: 123456, Start: 98, Inputs: []byte{1, 0, 2, 0, 3, 0}, Lost: 0b100,
		Seats: 3, NumChecksums: 2,
	}
	frame.Acks[0], frame.Acks[1], frame.Acks[2] = 101, 103, -1
	frame.Echoes[0] = Echo{Ping: 7000, Hold: 16000}
	frame.Echoes[1] = Echo{Hold: NoHold}
	frame.Echoes[2] = Echo{Ping: 9, Hold: NoHold}
	frame.Checksums[0] = Checksum{Frame: 90, Sum: 0xdeadbeefcafef00d}
	frame.Checksums[1] = Checksum{Frame: 60, Sum: 1}
	return map[string]*Packet{
		"frame": frame,
		"relay": {Kind: KindRelay, Game: 7, Seat: 0, Seq: 9, InputSize: 1, LostSeat: 2, Start: 40, Inputs: []byte{5, 6, 7}},
		"bye":   {Kind: KindBye, Game: 7, Seat: 3, Seq: 10, InputSize: 4, Frame: 1234},
	}
}

// golden pins the bytes of every message kind: a change here is a wire
// change (bump Version if old peers would misread it).
var golden = map[string]string{
	"frame": "1c00000050504c53000012001c000a00140007000c000800060010001200000000000101020001002a0000002000000088776655443322111400240010000c00080020001c0018001400040014000000040000006200000040e20100640000003c0000001c0000000800000058000000030000006500000067000000ffffffff03000000581b0000803e000000000000ffffffff09000000ffffffff020000000df0fecaefbeadde5a0000000000000001000000000000003c0000000000000000000000060000000100020003000000",
	"relay": "1c00000050504c530000120022000a00140000000c00080007001000120000000000000201000100090000001c00000007000000000000000000000000000a001000070008000c000a0000000000000228000000040000000300000005060700",
	"bye":   "1c00000050504c53000012001e000a00140007000c000800060010001200000000000303040001000a000000140000000700000000000000000006000800040006000000d2040000",
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
	tests := []struct {
		name string
		p    Packet
		want error
	}{
		{"unknown kind", Packet{InputSize: 1}, ErrInvalid},
		{"zero input size", Packet{Kind: KindBye}, ErrInvalid},
		{"ragged inputs", Packet{Kind: KindFrame, InputSize: 2, Inputs: []byte{1, 2, 3}}, ErrInvalid},
		{"too many seats", Packet{Kind: KindFrame, InputSize: 1, Seats: MaxSeats + 1}, ErrInvalid},
		{"too many checksums", Packet{Kind: KindFrame, InputSize: 1, NumChecksums: MaxChecksums + 1}, ErrInvalid},
		{"seat out of range", Packet{Kind: KindBye, InputSize: 1, Seat: MaxSeats}, ErrInvalid},
		{"negative start", Packet{Kind: KindRelay, InputSize: 1, Start: -1}, ErrInvalid},
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
	tests := []struct {
		name string
		buf  []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"short", []byte("\x08\x00\x00\x00PPLS"), ErrMalformed},
		{"oversize", make([]byte, MaxDatagram+1), ErrTooLarge},
		{"wrong identifier", mutate("bye", func(b []byte) { b[4] = 'X' }), ErrMalformed},
		{"root past end", mutate("bye", func(b []byte) { binary.LittleEndian.PutUint32(b, uint32(len(b))) }), ErrMalformed},
		{"root in header", mutate("bye", func(b []byte) { binary.LittleEndian.PutUint32(b, 4) }), ErrMalformed},
		{"truncated", valid("frame")[:40], ErrMalformed},
		{"zeroed tables", mutate("frame", func(b []byte) { clear(b[8:]) }), ErrVersion},
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

// TestDecodeVersion patches each little-endian 0x0001 of a valid datagram
// to 2: exactly one of them is the version field, and that one must give
// ErrVersion (the others change offsets or values and may decode).
func TestDecodeVersion(t *testing.T) {
	enc := NewEncoder()
	p := samples()["bye"]
	buf, err := enc.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	buf = append([]byte(nil), buf...)
	var d Decoder
	var got Packet
	patched := 0
	for i := 8; i+1 < len(buf); i++ {
		if binary.LittleEndian.Uint16(buf[i:]) != Version {
			continue
		}
		b := append([]byte(nil), buf...)
		binary.LittleEndian.PutUint16(b[i:], Version+1)
		if err := d.Decode(b, &got); errors.Is(err, ErrVersion) {
			patched++
		}
	}
	if patched != 1 {
		t.Errorf("%d patched positions gave ErrVersion, want exactly 1", patched)
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
	p := samples()["frame"]
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
		t.Errorf("Encode+Decode allocs = %v, want 0", allocs)
	}
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
	f.Add(hexBytes(f, golden["relay"])[:60])
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
		if err := d.Decode(again, &q); err != nil {
			t.Fatalf("re-encoded packet does not decode: %v", err)
		}
		if !equal(&p, &q) {
			t.Fatalf("re-decode differs: kind %v/%v, %d/%d input bytes", q.Kind, p.Kind, len(q.Inputs), len(p.Inputs))
		}
	})
}

// benchPacket is a steady-state Frame datagram of an N-seat game: 8
// unacknowledged 3-byte inputs, acks and echoes for every seat, two
// checksums.
func benchPacket(seats int) *Packet {
	p := &Packet{Kind: KindFrame, Game: 42, Seat: 1, Seq: 1000, InputSize: 3, Frame: 500, Ping: 123456,
		Start: 497, Inputs: make([]byte, 8*3), Seats: seats, NumChecksums: 2}
	for i := range seats {
		p.Acks[i] = 496 + int32(i)
		p.Echoes[i] = Echo{Ping: 120000 + uint32(i), Hold: 4000}
	}
	p.Checksums[0] = Checksum{Frame: 480, Sum: 0x1234}
	p.Checksums[1] = Checksum{Frame: 450, Sum: 0x5678}
	return p
}

// BenchmarkEncode: one op encodes one Frame datagram (reused Builder).
func BenchmarkEncode(b *testing.B) {
	for _, seats := range []int{2, 4, 8} {
		b.Run(strconv.Itoa(seats)+"seats", func(b *testing.B) {
			enc := NewEncoder()
			p := benchPacket(seats)
			var n int
			b.ReportAllocs()
			for b.Loop() {
				buf, err := enc.Encode(p)
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
	for _, seats := range []int{2, 4, 8} {
		b.Run(strconv.Itoa(seats)+"seats", func(b *testing.B) {
			buf, err := NewEncoder().Encode(benchPacket(seats))
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
