package wire

import "errors"

var (
	// ErrMalformed reports a datagram that is not a well-formed Packet:
	// too short, wrong identifier, offsets out of bounds, counts above this
	// package's capacity, unknown body kind or out-of-range fields.
	ErrMalformed = errors.New("wire: malformed datagram")
	// ErrVersion reports a well-framed Packet of another wire version.
	ErrVersion = errors.New("wire: unsupported version")
	// ErrTooLarge reports a datagram (to decode or encode) above
	// MaxDatagram bytes.
	ErrTooLarge = errors.New("wire: datagram too large")
	// ErrInvalid reports a Packet that Encode refuses (a programmer error
	// of the caller: counts above capacity, inputs not a multiple of
	// InputSize, unknown kind).
	ErrInvalid = errors.New("wire: invalid packet")
)
