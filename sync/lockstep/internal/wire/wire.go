package wire

import (
	"strconv"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/peerplay/peerplay/sync/lockstep/internal/wire/wirefb"
)

const (
	// Version is the wire version this package speaks: the fourth byte of
	// the file identifier.
	Version = 4
	// Identifier is the FlatBuffers file identifier of every datagram:
	// Magic followed by the version digit.
	Identifier = Magic + "4"
	// Magic is the first three bytes of the identifier of every wire
	// version (version 1 used "PPLS").
	Magic = "PPL"
	// MaxDatagram is the largest datagram encoded or accepted, in bytes:
	// one SCTP packet (pion's data channel MTU is about 1191 bytes, minus
	// SCTP/DATA chunk headers) with room to spare.
	MaxDatagram = 1024
	// MaxSeats is the largest number of seats a datagram describes.
	MaxSeats = 16
	// MaxChecksums is the largest number of checksums per datagram.
	MaxChecksums = 4
	// MaxFrame is the largest frame number on the wire (2^30: 207 days at
	// 60 Hz); every frame field, and Start plus the number of inputs, stay
	// within it.
	MaxFrame = 1 << 30
	// MaxLead is the largest distance between the end of a Frame's input
	// run and the sender's next frame (Start + inputs - Frame).
	MaxLead = 1<<16 - 1
	// MaxAckAhead is the largest distance from a Frame's Frame to one of
	// its acks; an ack more than MaxAckAhead-1 below it is sent as
	// "unknown" and decoded as -1.
	MaxAckAhead = 1<<15 - 1
	// HoldUnit is the unit of Echo.Hold.
	HoldUnit = 16 // microseconds
	// MaxHold is the largest Echo.Hold (about 1.05 s).
	MaxHold = 1<<16 - 1

	// ackUnknown is the ack delta that means "not representable".
	ackUnknown = -1 << 15
	// minDatagram: root offset + identifier + a vtable and a table with
	// the 16-byte head.
	minDatagram = 8 + 6 + 4 + 16
)

var identifier = []byte(Identifier)

// Kind is the kind of a Packet.
type Kind uint8

const (
	// KindUnknown is the zero Kind; it is never valid on the wire.
	KindUnknown Kind = iota
	// KindFrame is the per-tick datagram: inputs, acks, echoes, checksums.
	KindFrame
	// KindRelay carries a lost seat's inputs between survivors.
	KindRelay
	// KindBye announces that the sender leaves.
	KindBye
	// KindDropped tells the receiver that the sender's agreement dropped
	// it at Frame.
	KindDropped
)

// String returns "frame", "relay", "bye" or "unknown(N)".
func (k Kind) String() string {
	switch k {
	case KindFrame:
		return "frame"
	case KindRelay:
		return "relay"
	case KindBye:
		return "bye"
	case KindDropped:
		return "dropped"
	default:
		return "unknown(" + strconv.Itoa(int(k)) + ")"
	}
}

// GameTag is the 32-bit tag of a game ID that datagrams carry: its two
// halves XORed. Distinct IDs that differ only in one half (sequential
// IDs, random IDs in one half) always have distinct tags.
func GameTag(id uint64) uint32 { return uint32(id) ^ uint32(id>>32) }

// Echo answers seat Seat's ping Seq, held Hold·HoldUnit µs before it was
// answered.
type Echo struct {
	Seat uint8
	Seq  uint16
	Hold uint16
}

// Checksum is a game-state checksum after running Frame.
type Checksum struct {
	Frame int32
	Sum   uint64
}

// Packet is one datagram, decoded or about to be encoded. Which fields are
// meaningful depends on Kind (see lockstep.fbs); the others are zero after
// Decode and ignored by Encode. Frames are absolute here; Encode writes
// them as deltas. After Decode, Inputs aliases the decoded buffer.
type Packet struct {
	Kind      Kind
	Seat      uint8
	InputSize uint8
	Seq       uint16
	Game      uint32 // GameTag of the session's game ID

	Ping   bool   // frame: receivers echo Seq
	Frame  int32  // frame, bye: the sender's next frame to run; dropped: the receiver's drop frame
	Start  int32  // frame, relay: the frame of the first input
	Inputs []byte // frame, relay: raw inputs, a multiple of InputSize

	// Frame: the number of seats, and Acks[t]: the last frame of seat t's
	// inputs the sender holds without a gap (-1: none, or unknown). Decode
	// sets Acks[Seat] to Start+NumInputs()-1; Encode ignores it.
	Seats int
	Acks  [MaxSeats]int32

	NumEchoes    int // frame: entries used in Echoes
	Echoes       [MaxSeats]Echo
	NumChecksums int // frame: entries used in Checksums, newest first
	Checksums    [MaxChecksums]Checksum
	Lost         uint16 // frame: seats the sender considers lost (bit mask)
	Suspect      uint16 // frame: seats the sender votes to drop (bit mask)

	LostSeat uint8 // relay: the lost seat the inputs belong to; dropped: the receiver's seat
}

// NumInputs is len(p.Inputs)/p.InputSize (0 if InputSize is 0).
func (p *Packet) NumInputs() int {
	if p.InputSize == 0 {
		return 0
	}
	return len(p.Inputs) / int(p.InputSize)
}

// Encoder builds datagrams with one reused flatbuffers.Builder. It is not
// safe for concurrent use.
type Encoder struct {
	b    *flatbuffers.Builder
	runs [MaxDatagram]byte
}

// NewEncoder returns an Encoder whose builder already has room for the
// largest datagram.
func NewEncoder() *Encoder {
	return &Encoder{b: flatbuffers.NewBuilder(MaxDatagram + 256)}
}

// Encode serializes p. The returned slice aliases the Encoder and is valid
// until the next Encode; transport.Conn.Send copies it, so it can be sent
// directly. Errors: ErrInvalid for a Packet out of this package's bounds,
// ErrTooLarge if the result exceeds MaxDatagram.
func (e *Encoder) Encode(p *Packet) ([]byte, error) {
	if err := check(p); err != nil {
		return nil, err
	}
	b := e.b
	b.Reset()
	n := p.NumInputs()
	var inputs, acks, echoes, sums flatbuffers.UOffsetT
	var flags wirefb.Flags
	var lead uint16
	start := p.Start
	switch p.Kind {
	case KindFrame:
		lead = uint16(p.Start + int32(n) - p.Frame)
		if p.Ping {
			flags |= wirefb.FlagsPing
		}
		// The builder writes back to front: the vectors created first end
		// the buffer, after the inputs and the table.
		if p.NumChecksums > 0 {
			wirefb.PacketStartChecksumsVector(b, p.NumChecksums)
			for i := p.NumChecksums - 1; i >= 0; i-- {
				c := p.Checksums[i]
				wirefb.CreateChecksum(b, c.Frame, uint32(c.Sum), uint32(c.Sum>>32))
			}
			sums = b.EndVector(p.NumChecksums)
		}
		if p.NumEchoes > 0 {
			wirefb.PacketStartEchoesVector(b, p.NumEchoes)
			for i := p.NumEchoes - 1; i >= 0; i-- {
				x := p.Echoes[i]
				wirefb.CreateEcho(b, x.Seq, x.Hold, x.Seat)
			}
			echoes = b.EndVector(p.NumEchoes)
		}
		if p.Seats > 1 {
			wirefb.PacketStartAcksVector(b, p.Seats-1)
			for t := p.Seats - 1; t >= 0; t-- {
				if t != int(p.Seat) {
					b.PrependInt16(ackDelta(p.Acks[t], p.Frame))
				}
			}
			acks = b.EndVector(p.Seats - 1)
		}
	case KindBye, KindDropped:
		start = p.Frame
	}
	if len(p.Inputs) > 0 && (p.Kind == KindFrame || p.Kind == KindRelay) {
		raw := p.Inputs
		if r := appendRuns(e.runs[:], raw, int(p.InputSize)); r != nil {
			raw = r
			flags |= wirefb.FlagsRuns
		}
		inputs = b.CreateByteVector(raw)
	}
	wirefb.PacketStart(b)
	if inputs != 0 {
		wirefb.PacketAddInputs(b, inputs)
	}
	if acks != 0 {
		wirefb.PacketAddAcks(b, acks)
	}
	if echoes != 0 {
		wirefb.PacketAddEchoes(b, echoes)
	}
	if sums != 0 {
		wirefb.PacketAddChecksums(b, sums)
	}
	if p.Kind == KindFrame {
		wirefb.PacketAddLost(b, p.Lost)
		wirefb.PacketAddSuspect(b, p.Suspect)
	}
	if p.Kind == KindRelay || p.Kind == KindDropped {
		wirefb.PacketAddRelaySeat(b, p.LostSeat)
	}
	wirefb.PacketAddHead(b, wirefb.CreateHead(b, wirefb.Kind(p.Kind), flags, p.Seat, p.InputSize,
		p.Seq, lead, start, p.Game))
	b.FinishWithFileIdentifier(wirefb.PacketEnd(b), identifier)
	out := b.FinishedBytes()
	if len(out) > MaxDatagram {
		return nil, ErrTooLarge
	}
	return out, nil
}

// ackDelta writes ack relative to frame, or "unknown" if it is too far
// below.
func ackDelta(ack, frame int32) int16 {
	d := ack - frame
	if d < ackUnknown+1 {
		return ackUnknown
	}
	return int16(d)
}

// check validates p against the limits Decode enforces, so that whatever
// Encode produces, Decode accepts.
func check(p *Packet) error {
	if p.Kind < KindFrame || p.Kind > KindDropped || int(p.Seat) >= MaxSeats || p.InputSize == 0 ||
		len(p.Inputs)%int(p.InputSize) != 0 || len(p.Inputs) > MaxDatagram {
		return ErrInvalid
	}
	end := int64(p.Start) + int64(p.NumInputs())
	switch p.Kind {
	case KindFrame:
		if p.Seats < 1 || p.Seats > MaxSeats || int(p.Seat) >= p.Seats ||
			p.NumEchoes < 0 || p.NumEchoes > MaxSeats || p.NumChecksums < 0 || p.NumChecksums > MaxChecksums ||
			p.Start < 0 || end > MaxFrame || p.Frame < 0 || end-int64(p.Frame) < 0 || end-int64(p.Frame) > MaxLead {
			return ErrInvalid
		}
		for t := range p.Seats {
			if a := p.Acks[t]; t != int(p.Seat) && (a < -1 || a > MaxFrame || a-p.Frame > MaxAckAhead) {
				return ErrInvalid
			}
		}
		for _, x := range p.Echoes[:p.NumEchoes] {
			if int(x.Seat) >= MaxSeats {
				return ErrInvalid
			}
		}
		for _, c := range p.Checksums[:p.NumChecksums] {
			if c.Frame < 0 || c.Frame > MaxFrame {
				return ErrInvalid
			}
		}
	case KindRelay:
		if int(p.LostSeat) >= MaxSeats || p.Start < 0 || end > MaxFrame {
			return ErrInvalid
		}
	case KindBye:
		if p.Frame < 0 || p.Frame > MaxFrame {
			return ErrInvalid
		}
	case KindDropped:
		if p.Frame < 0 || p.Frame > MaxFrame || int(p.LostSeat) >= MaxSeats {
			return ErrInvalid
		}
	}
	return nil
}

// Decoder reads datagrams with reused accessor structs. It is not safe for
// concurrent use; the zero value is ready.
type Decoder struct {
	pkt  wirefb.Packet
	head wirefb.Head
	echo wirefb.Echo
	sum  wirefb.Checksum
	// raw holds expanded runs: at most what a raw datagram could carry.
	raw [MaxDatagram]byte
}

// Decode parses buf into p, overwriting every field. On success p.Inputs
// aliases buf, or the Decoder (run-length encoded inputs) until its next
// Decode. It never panics: any input that is not a valid version-4
// Packet yields ErrTooLarge, ErrVersion (another "PPL" identifier) or
// ErrMalformed, and p is then unspecified.
func (d *Decoder) Decode(buf []byte, p *Packet) error {
	if len(buf) > MaxDatagram {
		return ErrTooLarge
	}
	if len(buf) < 8 || !flatbuffers.BufferHasIdentifier(buf, Identifier) {
		if len(buf) >= 8 && string(buf[4:7]) == Magic {
			return ErrVersion
		}
		return ErrMalformed
	}
	if len(buf) < minDatagram {
		return ErrMalformed
	}
	// Cap the slice at its length: the generated accessors slice byte
	// vectors with lengths taken from buf, and Go lets a slice expression
	// reach past len up to cap, which would expose whatever memory follows.
	buf = buf[:len(buf):len(buf)]
	root := flatbuffers.GetUOffsetT(buf)
	if root < 8 || int(root) > len(buf)-4 {
		return ErrMalformed
	}
	return d.decode(buf, root, p)
}

// decode reads the table under recover: the generated accessors index buf
// with offsets taken from buf itself.
//
//go:noinline
func (d *Decoder) decode(buf []byte, root flatbuffers.UOffsetT, p *Packet) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = ErrMalformed
		}
	}()
	*p = Packet{}
	d.pkt.Init(buf, root)
	h := d.pkt.Head(&d.head)
	if h == nil {
		return ErrMalformed
	}
	p.Kind = Kind(h.Kind())
	p.Seat = h.Seat()
	p.InputSize = h.InputSize()
	p.Seq = h.Seq()
	p.Game = h.Game()
	p.Start = h.Start()
	flags := h.Flags()
	if p.Kind < KindFrame || p.Kind > KindDropped || int(p.Seat) >= MaxSeats || p.InputSize == 0 ||
		flags&^(wirefb.FlagsPing|wirefb.FlagsRuns) != 0 || p.Start < 0 || p.Start > MaxFrame ||
		(flags&wirefb.FlagsRuns != 0 && p.Kind != KindFrame && p.Kind != KindRelay) {
		return ErrMalformed
	}
	runs := flags&wirefb.FlagsRuns != 0
	switch p.Kind {
	case KindFrame:
		p.Ping = flags&wirefb.FlagsPing != 0
		return d.decodeFrame(p, int32(h.Lead()), runs)
	case KindRelay:
		p.LostSeat = d.pkt.RelaySeat()
		if !d.inputs(p, runs) {
			return ErrMalformed
		}
		if int(p.LostSeat) >= MaxSeats || len(p.Inputs)%int(p.InputSize) != 0 ||
			int64(p.Start)+int64(p.NumInputs()) > MaxFrame {
			return ErrMalformed
		}
	case KindBye:
		p.Frame, p.Start = p.Start, 0
	case KindDropped:
		p.Frame, p.Start = p.Start, 0
		p.LostSeat = d.pkt.RelaySeat()
		if int(p.LostSeat) >= MaxSeats {
			return ErrMalformed
		}
	}
	return nil
}

// inputs sets p.Inputs from the inputs vector, expanding runs into
// d.raw; false for malformed runs.
func (d *Decoder) inputs(p *Packet, runs bool) bool {
	p.Inputs = d.pkt.InputsBytes()
	if !runs {
		return true
	}
	raw, ok := expandRuns(d.raw[:], p.Inputs, int(p.InputSize))
	p.Inputs = raw
	return ok
}

func (d *Decoder) decodeFrame(p *Packet, lead int32, runs bool) error {
	pk := &d.pkt
	if !d.inputs(p, runs) {
		return ErrMalformed
	}
	p.Lost = pk.Lost()
	p.Suspect = pk.Suspect()
	if len(p.Inputs)%int(p.InputSize) != 0 {
		return ErrMalformed
	}
	end := p.Start + int32(p.NumInputs()) // no overflow: Start <= 2^30, inputs <= 1024 (expanded too)
	p.Frame = end - lead
	if end > MaxFrame || p.Frame < 0 {
		return ErrMalformed
	}
	// Bound every count by our capacity, never by the buffer's claim.
	n := pk.AcksLength()
	if n < 0 || n > MaxSeats-1 || int(p.Seat) > n {
		return ErrMalformed
	}
	p.Seats = n + 1
	for i := range n {
		t := i
		if t >= int(p.Seat) {
			t++
		}
		a := int32(-1)
		if x := pk.Acks(i); x != ackUnknown {
			a = p.Frame + int32(x)
		}
		if a < -1 || a > MaxFrame {
			return ErrMalformed
		}
		p.Acks[t] = a
	}
	p.Acks[p.Seat] = end - 1
	e := pk.EchoesLength()
	if e < 0 || e > MaxSeats {
		return ErrMalformed
	}
	p.NumEchoes = e
	for i := range e {
		if !pk.Echoes(&d.echo, i) {
			return ErrMalformed
		}
		x := Echo{Seat: d.echo.Seat(), Seq: d.echo.Seq(), Hold: d.echo.Hold()}
		if int(x.Seat) >= MaxSeats {
			return ErrMalformed
		}
		p.Echoes[i] = x
	}
	c := pk.ChecksumsLength()
	if c < 0 || c > MaxChecksums {
		return ErrMalformed
	}
	p.NumChecksums = c
	for i := range c {
		if !pk.Checksums(&d.sum, i) {
			return ErrMalformed
		}
		s := Checksum{Frame: d.sum.Frame(), Sum: uint64(d.sum.SumHi())<<32 | uint64(d.sum.SumLo())}
		if s.Frame < 0 || s.Frame > MaxFrame {
			return ErrMalformed
		}
		p.Checksums[i] = s
	}
	return nil
}
