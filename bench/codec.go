package bench

import (
	"encoding/binary"
	"errors"
)

// The hand-written baseline of the lockstep datagram: the same content as
// the FlatBuffers Frame datagram of sync/lockstep (wire version 2: kind,
// flags, seat, input size, seq, lead, start, 32-bit game tag; the inputs;
// one 16-bit ack delta per other seat; ping echoes; checksums; the lost
// mask when set), laid out flat with encoding/binary, little endian, no
// padding, no offsets:
//
//	magic "PPL2" | kind u8 | flags u8 (bit 0 ping, bit 1 lost present) | seat u8 | input_size u8 |
//	seq u16 | lead u16 | start i32 | game u32 |
//	n_input_bytes u16 | inputs | seats u8 | (seats-1) × ack delta i16 |
//	n_echoes u8 | n × (seq u16, hold u16, seat u8) | n_checksums u8 | n × (frame i32, sum u64) |
//	[lost u16]
//
// It exists only as the yardstick of the FlatBuffers codec (ns/op,
// allocs/op, bytes); the SDK does not use it.

// Bounds of a BaselinePacket, as the lockstep wire's.
const (
	BaselineMaxSeats     = 16
	BaselineMaxChecksums = 4
	baselineFixed        = 4 + 4 + 2 + 2 + 4 + 4 + 2 + 1 + 1 + 1
)

const (
	flagPing = 1 << 0
	flagLost = 1 << 1
)

// ErrBaseline is returned by BaselinePacket.Decode for any malformed
// datagram.
var ErrBaseline = errors.New("bench: malformed baseline datagram")

// BaselineEcho answers a ping (as the wire's Echo).
type BaselineEcho struct {
	Seat uint8
	Seq  uint16
	Hold uint16
}

// BaselinePacket is one Frame datagram, field for field the lockstep
// wire's Packet. After Decode, Inputs aliases the decoded buffer, and
// Acks[Seat] is Start+len(Inputs)/InputSize-1.
type BaselinePacket struct {
	Seat      uint8
	InputSize uint8
	Seq       uint16
	Game      uint32
	Ping      bool
	Frame     int32
	Start     int32
	Inputs    []byte

	Seats        int
	Acks         [BaselineMaxSeats]int32
	NumEchoes    int
	Echoes       [BaselineMaxSeats]BaselineEcho
	NumChecksums int
	SumFrame     [BaselineMaxChecksums]int32
	Sum          [BaselineMaxChecksums]uint64
	Lost         uint16
}

// Size is the encoded length of p.
func (p *BaselinePacket) Size() int {
	n := baselineFixed + len(p.Inputs) + 2*(p.Seats-1) + 5*p.NumEchoes + 12*p.NumChecksums
	if p.Lost != 0 {
		n += 2
	}
	return n
}

func (p *BaselinePacket) numInputs() int32 {
	if p.InputSize == 0 {
		return 0
	}
	return int32(len(p.Inputs) / int(p.InputSize))
}

// AppendEncode appends p to b; with a b of enough capacity it does not
// allocate. p must respect the bounds (1 ≤ Seats ≤ 16, Seat < Seats,
// NumEchoes ≤ 16, NumChecksums ≤ 4, len(Inputs) < 65536).
func (p *BaselinePacket) AppendEncode(b []byte) []byte {
	le := binary.LittleEndian
	var flags byte
	if p.Ping {
		flags |= flagPing
	}
	if p.Lost != 0 {
		flags |= flagLost
	}
	b = append(b, "PPL2"...)
	b = append(b, 1, flags, p.Seat, p.InputSize)
	b = le.AppendUint16(b, p.Seq)
	b = le.AppendUint16(b, uint16(p.Start+p.numInputs()-p.Frame))
	b = le.AppendUint32(b, uint32(p.Start))
	b = le.AppendUint32(b, p.Game)
	b = le.AppendUint16(b, uint16(len(p.Inputs)))
	b = append(b, p.Inputs...)
	b = append(b, uint8(p.Seats))
	for t := 0; t < p.Seats; t++ {
		if t != int(p.Seat) {
			b = le.AppendUint16(b, uint16(int16(p.Acks[t]-p.Frame)))
		}
	}
	b = append(b, uint8(p.NumEchoes))
	for _, e := range p.Echoes[:p.NumEchoes] {
		b = le.AppendUint16(b, e.Seq)
		b = le.AppendUint16(b, e.Hold)
		b = append(b, e.Seat)
	}
	b = append(b, uint8(p.NumChecksums))
	for i := 0; i < p.NumChecksums; i++ {
		b = le.AppendUint32(b, uint32(p.SumFrame[i]))
		b = le.AppendUint64(b, p.Sum[i])
	}
	if p.Lost != 0 {
		b = le.AppendUint16(b, p.Lost)
	}
	return b
}

// Decode parses b into p. It is total: every input gives p or
// ErrBaseline, never a panic (lengths are checked before every read).
func (p *BaselinePacket) Decode(b []byte) error {
	le := binary.LittleEndian
	if len(b) < baselineFixed || string(b[:4]) != "PPL2" || b[4] != 1 || b[5]&^(flagPing|flagLost) != 0 {
		return ErrBaseline
	}
	flags := b[5]
	p.Ping = flags&flagPing != 0
	p.Seat, p.InputSize = b[6], b[7]
	p.Seq = le.Uint16(b[8:])
	lead := int32(le.Uint16(b[10:]))
	p.Start = int32(le.Uint32(b[12:]))
	p.Game = le.Uint32(b[16:])
	n := int(le.Uint16(b[20:]))
	rest := b[22:]
	if p.InputSize == 0 || n%int(p.InputSize) != 0 || len(rest) < n+1 {
		return ErrBaseline
	}
	p.Inputs = rest[:n:n]
	p.Frame = p.Start + p.numInputs() - lead
	rest = rest[n:]
	p.Seats = int(rest[0])
	rest = rest[1:]
	if p.Seats < 1 || p.Seats > BaselineMaxSeats || int(p.Seat) >= p.Seats || len(rest) < 2*(p.Seats-1)+1 {
		return ErrBaseline
	}
	for t := 0; t < p.Seats; t++ {
		if t == int(p.Seat) {
			p.Acks[t] = p.Start + p.numInputs() - 1
			continue
		}
		p.Acks[t] = p.Frame + int32(int16(le.Uint16(rest)))
		rest = rest[2:]
	}
	p.NumEchoes = int(rest[0])
	rest = rest[1:]
	if p.NumEchoes > BaselineMaxSeats || len(rest) < 5*p.NumEchoes+1 {
		return ErrBaseline
	}
	for i := 0; i < p.NumEchoes; i++ {
		p.Echoes[i] = BaselineEcho{Seq: le.Uint16(rest), Hold: le.Uint16(rest[2:]), Seat: rest[4]}
		rest = rest[5:]
	}
	p.NumChecksums = int(rest[0])
	rest = rest[1:]
	want := 12 * p.NumChecksums
	if flags&flagLost != 0 {
		want += 2
	}
	if p.NumChecksums > BaselineMaxChecksums || len(rest) != want {
		return ErrBaseline
	}
	for i := 0; i < p.NumChecksums; i++ {
		p.SumFrame[i] = int32(le.Uint32(rest))
		p.Sum[i] = le.Uint64(rest[4:])
		rest = rest[12:]
	}
	p.Lost = 0
	if flags&flagLost != 0 {
		if p.Lost = le.Uint16(rest); p.Lost == 0 {
			return ErrBaseline // a present lost mask is never 0
		}
	}
	return nil
}

// BaselineSample is the datagram the codec benchmarks encode, with the
// same values as the lockstep wire package's benchmark packets: seats
// seats, k unacknowledged 3-byte inputs and, with extras, an echo for
// every other seat and one checksum ("Nseats" is k=8 with extras,
// "Nseats-steady" k=1 without).
func BaselineSample(seats, k int, extras bool) *BaselinePacket {
	p := &BaselinePacket{Game: 42, Seat: 1, Seq: 1000, InputSize: 3, Frame: 500,
		Start: 500, Inputs: make([]byte, k*3), Seats: seats}
	for i := 0; i < seats; i++ {
		p.Acks[i] = 499 + int32(i)
	}
	p.Acks[p.Seat] = p.Start + int32(k) - 1
	if extras {
		for i := 0; i < seats; i++ {
			if i != int(p.Seat) {
				p.Echoes[p.NumEchoes] = BaselineEcho{Seat: uint8(i), Seq: 2000 + uint16(i), Hold: 250}
				p.NumEchoes++
			}
		}
		p.SumFrame[0], p.Sum[0] = 480, 0x1234
		p.NumChecksums = 1
	}
	return p
}
