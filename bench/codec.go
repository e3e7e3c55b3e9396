package bench

import (
	"encoding/binary"
	"errors"
)

// The hand-written baseline of the lockstep datagram: the same content as
// the FlatBuffers Frame datagram of sync/lockstep (wire version 1: game,
// seat, sequence, input size; frame, ping, start, lost, inputs, per-seat
// acks and echoes, checksums), laid out flat with encoding/binary, little
// endian, no padding:
//
//	magic "PPLS" | version u16 | game u64 | seat u8 | seq u32 | input_size u16 |
//	frame i32 | ping u32 | start i32 | lost u32 |
//	n_inputs_bytes u16 | inputs | seats u8 | seats × (ack i32, ping u32, hold u32) |
//	n_checksums u8 | n × (frame i32, sum u64)
//
// It exists only as the yardstick of the FlatBuffers codec (ns/op,
// allocs/op, bytes); the SDK does not use it.

// BaselineMaxSeats and BaselineMaxChecksums bound a BaselinePacket, as
// the lockstep wire does.
const (
	BaselineMaxSeats     = 16
	BaselineMaxChecksums = 4
	baselineVersion      = 1
	baselineFixed        = 4 + 2 + 8 + 1 + 4 + 2 + 4 + 4 + 4 + 4 + 2 + 1 + 1
)

// ErrBaseline is returned by BaselinePacket.Decode for any malformed
// datagram.
var ErrBaseline = errors.New("bench: malformed baseline datagram")

// BaselinePacket is one Frame datagram. After Decode, Inputs aliases the
// decoded buffer.
type BaselinePacket struct {
	Game      uint64
	Seat      uint8
	Seq       uint32
	InputSize uint16
	Frame     int32
	Ping      uint32
	Start     int32
	Lost      uint32
	Inputs    []byte

	Seats        int
	Acks         [BaselineMaxSeats]int32
	EchoPing     [BaselineMaxSeats]uint32
	EchoHold     [BaselineMaxSeats]uint32
	NumChecksums int
	SumFrame     [BaselineMaxChecksums]int32
	Sum          [BaselineMaxChecksums]uint64
}

// Size is the encoded length of p.
func (p *BaselinePacket) Size() int {
	return baselineFixed + len(p.Inputs) + 12*p.Seats + 12*p.NumChecksums
}

// AppendEncode appends p to b; with a b of enough capacity it does not
// allocate. p must respect the bounds (Seats ≤ 16, NumChecksums ≤ 4,
// len(Inputs) < 65536).
func (p *BaselinePacket) AppendEncode(b []byte) []byte {
	le := binary.LittleEndian
	b = append(b, "PPLS"...)
	b = le.AppendUint16(b, baselineVersion)
	b = le.AppendUint64(b, p.Game)
	b = append(b, p.Seat)
	b = le.AppendUint32(b, p.Seq)
	b = le.AppendUint16(b, p.InputSize)
	b = le.AppendUint32(b, uint32(p.Frame))
	b = le.AppendUint32(b, p.Ping)
	b = le.AppendUint32(b, uint32(p.Start))
	b = le.AppendUint32(b, p.Lost)
	b = le.AppendUint16(b, uint16(len(p.Inputs)))
	b = append(b, p.Inputs...)
	b = append(b, uint8(p.Seats))
	for i := 0; i < p.Seats; i++ {
		b = le.AppendUint32(b, uint32(p.Acks[i]))
		b = le.AppendUint32(b, p.EchoPing[i])
		b = le.AppendUint32(b, p.EchoHold[i])
	}
	b = append(b, uint8(p.NumChecksums))
	for i := 0; i < p.NumChecksums; i++ {
		b = le.AppendUint32(b, uint32(p.SumFrame[i]))
		b = le.AppendUint64(b, p.Sum[i])
	}
	return b
}

// Decode parses b into p. It is total: every input gives p or
// ErrBaseline, never a panic (lengths are checked before every read).
func (p *BaselinePacket) Decode(b []byte) error {
	le := binary.LittleEndian
	if len(b) < baselineFixed || string(b[:4]) != "PPLS" || le.Uint16(b[4:]) != baselineVersion {
		return ErrBaseline
	}
	p.Game = le.Uint64(b[6:])
	p.Seat = b[14]
	p.Seq = le.Uint32(b[15:])
	p.InputSize = le.Uint16(b[19:])
	p.Frame = int32(le.Uint32(b[21:]))
	p.Ping = le.Uint32(b[25:])
	p.Start = int32(le.Uint32(b[29:]))
	p.Lost = le.Uint32(b[33:])
	n := int(le.Uint16(b[37:]))
	rest := b[39:]
	if p.InputSize == 0 || n%int(p.InputSize) != 0 || len(rest) < n+1 {
		return ErrBaseline
	}
	p.Inputs = rest[:n:n]
	rest = rest[n:]
	p.Seats = int(rest[0])
	rest = rest[1:]
	if p.Seats > BaselineMaxSeats || int(p.Seat) >= max(p.Seats, 1) || len(rest) < 12*p.Seats+1 {
		return ErrBaseline
	}
	for i := 0; i < p.Seats; i++ {
		p.Acks[i] = int32(le.Uint32(rest))
		p.EchoPing[i] = le.Uint32(rest[4:])
		p.EchoHold[i] = le.Uint32(rest[8:])
		rest = rest[12:]
	}
	p.NumChecksums = int(rest[0])
	rest = rest[1:]
	if p.NumChecksums > BaselineMaxChecksums || len(rest) != 12*p.NumChecksums {
		return ErrBaseline
	}
	for i := 0; i < p.NumChecksums; i++ {
		p.SumFrame[i] = int32(le.Uint32(rest))
		p.Sum[i] = le.Uint64(rest[4:])
		rest = rest[12:]
	}
	return nil
}

// BaselineSample is the datagram the codec benchmarks encode, with the
// same values as the lockstep wire package's benchmark packet: seats
// seats, 8 unacknowledged 3-byte inputs, 2 checksums.
func BaselineSample(seats int) *BaselinePacket {
	p := &BaselinePacket{Game: 42, Seat: 1, Seq: 1000, InputSize: 3, Frame: 500, Ping: 123456,
		Start: 497, Inputs: make([]byte, 8*3), Seats: seats, NumChecksums: 2}
	for i := 0; i < seats; i++ {
		p.Acks[i] = 496 + int32(i)
		p.EchoPing[i], p.EchoHold[i] = 120000+uint32(i), 4000
	}
	p.SumFrame[0], p.Sum[0] = 480, 0x1234
	p.SumFrame[1], p.Sum[1] = 450, 0x5678
	return p
}
