package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ProtocolVersion is the version of the mesh protocol sent in Hello. Peers
// with different versions refuse each other.
const ProtocolVersion = 1

// Kind says what a control frame is.
type Kind uint8

// Control frame kinds.
const (
	KindUnknown Kind = iota
	KindHello
	KindRefuse
	KindBye
	KindPing
	KindPong
)

// String returns the kind's name.
func (k Kind) String() string {
	switch k {
	case KindHello:
		return "hello"
	case KindRefuse:
		return "refuse"
	case KindBye:
		return "bye"
	case KindPing:
		return "ping"
	case KindPong:
		return "pong"
	default:
		return fmt.Sprintf("unknown(%d)", uint8(k))
	}
}

// Reason says why a peer refused another.
type Reason uint8

// Refusal reasons.
const (
	ReasonUnknown Reason = iota
	ReasonVersion
	ReasonGameID
	ReasonChannels
	ReasonBadHandshake
	ReasonTimeout
	// ReasonBlocked: the refusing side blocked the peer (Mesh.Block).
	ReasonBlocked
	// ReasonIdentity: the peer's DTLS certificate does not prove the ID
	// it claimed.
	ReasonIdentity
)

// String returns the reason's name.
func (r Reason) String() string {
	switch r {
	case ReasonVersion:
		return "protocol version mismatch"
	case ReasonGameID:
		return "game ID or build mismatch"
	case ReasonChannels:
		return "channel table mismatch"
	case ReasonBadHandshake:
		return "bad handshake"
	case ReasonTimeout:
		return "handshake timeout"
	case ReasonBlocked:
		return "blocked"
	case ReasonIdentity:
		return "identity not proven"
	default:
		return fmt.Sprintf("unknown(%d)", uint8(r))
	}
}

// Limits of the control frames.
const (
	MaxString   = 255 // bytes of a str8
	MaxChannels = 32
	// MaxControlFrame bounds any control frame: a Hello with MaxChannels
	// labels of MaxString bytes.
	MaxControlFrame = 3 + 2 + 3*(1+MaxString) + 1 + MaxChannels*(2+MaxString)
)

// ErrMalformed is returned (wrapped) for bytes that are not a valid frame.
var ErrMalformed = errors.New("wire: malformed frame")

// Channel is one row of a Hello's channel table.
type Channel struct {
	Reliability uint8
	Label       string
}

// Hello opens the handshake on the control channel.
type Hello struct {
	Version  uint16
	GameID   string
	Build    string
	Name     string
	Channels []Channel
}

// Control is any decoded control frame; which fields matter depends on
// Kind.
type Control struct {
	Kind   Kind
	Hello  Hello  // KindHello
	Reason Reason // KindRefuse
	Detail string // KindRefuse
	Seq    uint32 // KindPing, KindPong
	Time   uint64 // KindPing, KindPong
}

var magic = [2]byte{'P', 'P'}

func appendHeader(b []byte, k Kind) []byte { return append(b, magic[0], magic[1], byte(k)) }

func appendStr8(b []byte, s string) ([]byte, error) {
	if len(s) > MaxString {
		return b, fmt.Errorf("wire: string of %d bytes exceeds %d", len(s), MaxString)
	}
	b = append(b, byte(len(s)))
	return append(b, s...), nil
}

// AppendHello appends the Hello frame h to b.
func AppendHello(b []byte, h Hello) ([]byte, error) {
	if len(h.Channels) > MaxChannels {
		return b, fmt.Errorf("wire: %d channels exceed %d", len(h.Channels), MaxChannels)
	}
	b = appendHeader(b, KindHello)
	b = binary.BigEndian.AppendUint16(b, h.Version)
	var err error
	if b, err = appendStr8(b, h.GameID); err != nil {
		return b, err
	}
	if b, err = appendStr8(b, h.Build); err != nil {
		return b, err
	}
	if b, err = appendStr8(b, h.Name); err != nil {
		return b, err
	}
	b = append(b, byte(len(h.Channels)))
	for _, c := range h.Channels {
		b = append(b, c.Reliability)
		if b, err = appendStr8(b, c.Label); err != nil {
			return b, err
		}
	}
	return b, nil
}

// AppendRefuse appends a Refuse frame. A detail longer than MaxString is
// cut.
func AppendRefuse(b []byte, r Reason, detail string) []byte {
	if len(detail) > MaxString {
		detail = detail[:MaxString]
	}
	b = appendHeader(b, KindRefuse)
	b = append(b, byte(r))
	b, _ = appendStr8(b, detail)
	return b
}

// AppendBye appends a Bye frame.
func AppendBye(b []byte) []byte { return appendHeader(b, KindBye) }

// AppendPing appends a Ping frame.
func AppendPing(b []byte, seq uint32, t uint64) []byte {
	b = appendHeader(b, KindPing)
	b = binary.BigEndian.AppendUint32(b, seq)
	return binary.BigEndian.AppendUint64(b, t)
}

// AppendPong appends a Pong frame answering a Ping.
func AppendPong(b []byte, seq uint32, t uint64) []byte {
	b = appendHeader(b, KindPong)
	b = binary.BigEndian.AppendUint32(b, seq)
	return binary.BigEndian.AppendUint64(b, t)
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: short %s", ErrMalformed, what)
	}
}

func (r *reader) u8(what string) uint8 {
	if r.err != nil || len(r.b) < 1 {
		r.fail(what)
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) u16(what string) uint16 {
	if r.err != nil || len(r.b) < 2 {
		r.fail(what)
		return 0
	}
	v := binary.BigEndian.Uint16(r.b)
	r.b = r.b[2:]
	return v
}

func (r *reader) u32(what string) uint32 {
	if r.err != nil || len(r.b) < 4 {
		r.fail(what)
		return 0
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *reader) u64(what string) uint64 {
	if r.err != nil || len(r.b) < 8 {
		r.fail(what)
		return 0
	}
	v := binary.BigEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *reader) str8(what string) string {
	n := int(r.u8(what))
	if r.err != nil || len(r.b) < n {
		r.fail(what)
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// DecodeControl decodes one control frame. It never panics; any input that
// is not a valid frame gives an error wrapping ErrMalformed.
func DecodeControl(p []byte) (c Control, err error) {
	defer func() {
		if e := recover(); e != nil { // belt and braces: the reader checks bounds
			c, err = Control{}, fmt.Errorf("%w: %v", ErrMalformed, e)
		}
	}()
	if len(p) > MaxControlFrame {
		return Control{}, fmt.Errorf("%w: %d bytes exceed %d", ErrMalformed, len(p), MaxControlFrame)
	}
	if len(p) < 3 || p[0] != magic[0] || p[1] != magic[1] {
		return Control{}, fmt.Errorf("%w: bad magic", ErrMalformed)
	}
	r := &reader{b: p[3:]}
	c.Kind = Kind(p[2])
	switch c.Kind {
	case KindHello:
		c.Hello.Version = r.u16("version")
		c.Hello.GameID = r.str8("game ID")
		c.Hello.Build = r.str8("build")
		c.Hello.Name = r.str8("name")
		n := int(r.u8("channel count"))
		if n > MaxChannels {
			return Control{}, fmt.Errorf("%w: %d channels exceed %d", ErrMalformed, n, MaxChannels)
		}
		for i := 0; i < n && r.err == nil; i++ {
			rel := r.u8("reliability")
			c.Hello.Channels = append(c.Hello.Channels, Channel{Reliability: rel, Label: r.str8("label")})
		}
	case KindRefuse:
		c.Reason = Reason(r.u8("reason"))
		c.Detail = r.str8("detail")
	case KindBye:
	case KindPing, KindPong:
		c.Seq = r.u32("sequence")
		c.Time = r.u64("time")
	default:
		return Control{}, fmt.Errorf("%w: unknown kind %d", ErrMalformed, p[2])
	}
	if r.err != nil {
		return Control{}, r.err
	}
	return c, nil
}
