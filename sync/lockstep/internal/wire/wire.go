package wire

import (
	"strconv"

	flatbuffers "github.com/google/flatbuffers/go"

	"github.com/peerplay/peerplay/sync/lockstep/internal/wire/wirefb"
)

const (
	// Version is the wire version this package speaks (Packet.version).
	Version = 1
	// Identifier is the FlatBuffers file identifier of every datagram.
	Identifier = "PPLS"
	// MaxDatagram is the largest datagram encoded or accepted, in bytes:
	// one SCTP packet (pion's data channel MTU is about 1191 bytes, minus
	// SCTP/DATA chunk headers) with room to spare.
	MaxDatagram = 1024
	// MaxSeats is the largest number of seats a datagram describes.
	MaxSeats = 16
	// MaxChecksums is the largest number of checksums per datagram.
	MaxChecksums = 4
	// NoHold marks an Echo with nothing to echo.
	NoHold = ^uint32(0)

	// minDatagram: root offset + identifier + a vtable and a table.
	minDatagram = 16
)

var identifier = []byte(Identifier)

// Kind is the body kind of a Packet.
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
	default:
		return "unknown(" + strconv.Itoa(int(k)) + ")"
	}
}

// Echo returns a ping timestamp to the seat that sent it.
type Echo struct {
	Ping uint32 // the seat's clock, microseconds, as received
	Hold uint32 // microseconds between receipt and this send; NoHold: none
}

// Checksum is a game-state checksum after running Frame.
type Checksum struct {
	Frame int32
	Sum   uint64
}

// Packet is one datagram, decoded or about to be encoded. Which fields are
// meaningful depends on Kind (see lockstep.fbs). After Decode, Inputs
// aliases the decoded buffer.
type Packet struct {
	Kind      Kind
	Game      uint64
	Seat      uint8
	Seq       uint32
	InputSize uint16

	Frame    int32  // frame, bye: the sender's next frame to run
	Ping     uint32 // frame: the sender's clock, microseconds
	Start    int32  // frame, relay: the frame of the first input
	Inputs   []byte // frame, relay: raw inputs, a multiple of InputSize
	Lost     uint32 // frame: seats the sender considers lost (bit mask)
	LostSeat uint8  // relay: the lost seat the inputs belong to

	Seats        int // frame: entries used in Acks and Echoes
	Acks         [MaxSeats]int32
	Echoes       [MaxSeats]Echo
	NumChecksums int // frame: entries used in Checksums
	Checksums    [MaxChecksums]Checksum
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
	b *flatbuffers.Builder
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
	var body flatbuffers.UOffsetT
	var kind wirefb.Body
	switch p.Kind {
	case KindFrame:
		kind = wirefb.BodyFrame
		inputs := b.CreateByteVector(p.Inputs)
		var sums flatbuffers.UOffsetT
		if p.NumChecksums > 0 {
			wirefb.FrameStartChecksumsVector(b, p.NumChecksums)
			for i := p.NumChecksums - 1; i >= 0; i-- {
				c := p.Checksums[i]
				wirefb.CreateChecksum(b, c.Sum, c.Frame)
			}
			sums = b.EndVector(p.NumChecksums)
		}
		wirefb.FrameStartEchoesVector(b, p.Seats)
		for i := p.Seats - 1; i >= 0; i-- {
			wirefb.CreateEcho(b, p.Echoes[i].Ping, p.Echoes[i].Hold)
		}
		echoes := b.EndVector(p.Seats)
		wirefb.FrameStartAcksVector(b, p.Seats)
		for i := p.Seats - 1; i >= 0; i-- {
			b.PrependInt32(p.Acks[i])
		}
		acks := b.EndVector(p.Seats)
		wirefb.FrameStart(b)
		wirefb.FrameAddInputs(b, inputs)
		wirefb.FrameAddAcks(b, acks)
		wirefb.FrameAddEchoes(b, echoes)
		if p.NumChecksums > 0 {
			wirefb.FrameAddChecksums(b, sums)
		}
		wirefb.FrameAddFrame(b, p.Frame)
		wirefb.FrameAddPing(b, p.Ping)
		wirefb.FrameAddStart(b, p.Start)
		wirefb.FrameAddLost(b, p.Lost)
		body = wirefb.FrameEnd(b)
	case KindRelay:
		kind = wirefb.BodyRelay
		inputs := b.CreateByteVector(p.Inputs)
		wirefb.RelayStart(b)
		wirefb.RelayAddInputs(b, inputs)
		wirefb.RelayAddStart(b, p.Start)
		wirefb.RelayAddSeat(b, p.LostSeat)
		body = wirefb.RelayEnd(b)
	case KindBye:
		kind = wirefb.BodyBye
		wirefb.ByeStart(b)
		wirefb.ByeAddFrame(b, p.Frame)
		body = wirefb.ByeEnd(b)
	}
	wirefb.PacketStart(b)
	wirefb.PacketAddGame(b, p.Game)
	wirefb.PacketAddBody(b, body)
	wirefb.PacketAddSeq(b, p.Seq)
	wirefb.PacketAddVersion(b, Version)
	wirefb.PacketAddInputSize(b, p.InputSize)
	wirefb.PacketAddSeat(b, p.Seat)
	wirefb.PacketAddBodyType(b, kind)
	b.FinishWithFileIdentifier(wirefb.PacketEnd(b), identifier)
	out := b.FinishedBytes()
	if len(out) > MaxDatagram {
		return nil, ErrTooLarge
	}
	return out, nil
}

// check validates p against the limits Decode enforces, so that whatever
// Encode produces, Decode accepts.
func check(p *Packet) error {
	switch {
	case p.Kind < KindFrame || p.Kind > KindBye,
		int(p.Seat) >= MaxSeats,
		p.InputSize == 0,
		len(p.Inputs)%int(p.InputSize) != 0,
		len(p.Inputs) > MaxDatagram:
		return ErrInvalid
	}
	switch p.Kind {
	case KindFrame:
		if p.Seats < 0 || p.Seats > MaxSeats || p.NumChecksums < 0 || p.NumChecksums > MaxChecksums ||
			p.Frame < 0 || p.Start < 0 {
			return ErrInvalid
		}
		for i := 0; i < p.Seats; i++ {
			if p.Acks[i] < -1 {
				return ErrInvalid
			}
		}
		for i := 0; i < p.NumChecksums; i++ {
			if p.Checksums[i].Frame < 0 {
				return ErrInvalid
			}
		}
	case KindRelay:
		if int(p.LostSeat) >= MaxSeats || p.Start < 0 {
			return ErrInvalid
		}
	case KindBye:
		if p.Frame < 0 {
			return ErrInvalid
		}
	}
	return nil
}

// Decoder reads datagrams with reused accessor structs. It is not safe for
// concurrent use; the zero value is ready.
type Decoder struct {
	pkt   wirefb.Packet
	tab   flatbuffers.Table
	frame wirefb.Frame
	relay wirefb.Relay
	bye   wirefb.Bye
	echo  wirefb.Echo
	sum   wirefb.Checksum
}

// Decode parses buf into p, overwriting every field. On success p.Inputs
// aliases buf. It never panics: any input that is not a valid version-1
// Packet yields ErrTooLarge, ErrVersion or ErrMalformed, and p is then
// unspecified.
func (d *Decoder) Decode(buf []byte, p *Packet) error {
	if len(buf) > MaxDatagram {
		return ErrTooLarge
	}
	if len(buf) < minDatagram || !flatbuffers.BufferHasIdentifier(buf, Identifier) {
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

// decode reads the tables under recover: the generated accessors index
// buf with offsets taken from buf itself.
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
	if d.pkt.Version() != Version {
		return ErrVersion
	}
	p.Game = d.pkt.Game()
	p.Seat = d.pkt.Seat()
	p.Seq = d.pkt.Seq()
	p.InputSize = d.pkt.InputSize()
	if int(p.Seat) >= MaxSeats || p.InputSize == 0 {
		return ErrMalformed
	}
	if !d.pkt.Body(&d.tab) {
		return ErrMalformed
	}
	switch d.pkt.BodyType() {
	case wirefb.BodyFrame:
		p.Kind = KindFrame
		return d.decodeFrame(p)
	case wirefb.BodyRelay:
		p.Kind = KindRelay
		r := &d.relay
		r.Init(d.tab.Bytes, d.tab.Pos)
		p.LostSeat = r.Seat()
		p.Start = r.Start()
		p.Inputs = r.InputsBytes()
		if int(p.LostSeat) >= MaxSeats || p.Start < 0 || len(p.Inputs)%int(p.InputSize) != 0 {
			return ErrMalformed
		}
		return nil
	case wirefb.BodyBye:
		p.Kind = KindBye
		d.bye.Init(d.tab.Bytes, d.tab.Pos)
		p.Frame = d.bye.Frame()
		if p.Frame < 0 {
			return ErrMalformed
		}
		return nil
	default:
		return ErrMalformed
	}
}

func (d *Decoder) decodeFrame(p *Packet) error {
	f := &d.frame
	f.Init(d.tab.Bytes, d.tab.Pos)
	p.Frame = f.Frame()
	p.Ping = f.Ping()
	p.Start = f.Start()
	p.Lost = f.Lost()
	p.Inputs = f.InputsBytes()
	if p.Frame < 0 || p.Start < 0 || len(p.Inputs)%int(p.InputSize) != 0 {
		return ErrMalformed
	}
	// Bound every count by our capacity, never by the buffer's claim.
	n := f.AcksLength()
	if n < 0 || n > MaxSeats || f.EchoesLength() != n {
		return ErrMalformed
	}
	p.Seats = n
	for i := 0; i < n; i++ {
		a := f.Acks(i)
		if a < -1 {
			return ErrMalformed
		}
		p.Acks[i] = a
		if !f.Echoes(&d.echo, i) {
			return ErrMalformed
		}
		p.Echoes[i] = Echo{Ping: d.echo.Ping(), Hold: d.echo.Hold()}
	}
	c := f.ChecksumsLength()
	if c < 0 || c > MaxChecksums {
		return ErrMalformed
	}
	p.NumChecksums = c
	for i := 0; i < c; i++ {
		if !f.Checksums(&d.sum, i) {
			return ErrMalformed
		}
		p.Checksums[i] = Checksum{Frame: d.sum.Frame(), Sum: d.sum.Sum()}
		if p.Checksums[i].Frame < 0 {
			return ErrMalformed
		}
	}
	return nil
}
