package proto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/coder/websocket"
	"time"
	"unicode/utf8"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling/internal/rooms"
)

// Protocol versions. A client sends ProtocolVersion in its join; a server
// accepts MinProtocolVersion..ProtocolVersion and answers anything else
// with CodeVersion, naming the range it speaks.
//
// Version 2 carries a signal payload that is one JSON value as is ("data",
// relayed byte for byte) and any other payload as base64 ("bin"); version
// 1 carried every payload as base64 in "data". The two do not interoperate
// (a version 2 client would read a version 1 sender's base64 as a JSON
// string), so servers of version 2 refuse version 1 clients with
// CodeVersion.
const (
	ProtocolVersion    = 2
	MinProtocolVersion = 2
)

// Message types (the "type" field). Part of the wire protocol.
const (
	TypeJoin       = "join"        // client → server, first message
	TypeWelcome    = "welcome"     // server → client, answer to join
	TypePeerJoined = "peer-joined" // server → client
	TypePeerLeft   = "peer-left"   // server → client
	TypeSignal     = "signal"      // both ways: to (client → server), peer = sender (server → client)
	TypeRoom       = "room"        // client → server: meta update; server → client: info broadcast
	TypePing       = "ping"        // client → server
	TypePong       = "pong"        // server → client
	TypeLeave      = "leave"       // client → server: leave now, no grace
	TypeError      = "error"       // server → client
	TypeKick       = "kick"        // client → server: the owner removes peer now and refuses it
	TypeUnkick     = "unkick"      // client → server: the owner lets peer back
	TypeICE        = "ice"         // server → client: fresh ICE servers (TURN credentials) while seated
)

// Field limits checked by the decoder.
const (
	MaxRoomLen     = 64
	MaxNameLen     = 64
	MaxGameLen     = 64
	MaxStateLen    = 32
	MaxPasswordLen = 128
	MaxTokenLen    = 1024
	MaxResumeLen   = 128
	MaxPeerLen     = 64
	// MaxRoomMax bounds the "max" a client may ask for; the server's
	// MaxRoomSize bounds it further.
	MaxRoomMax = 1024
)

// ICEServer is one STUN or TURN server for a WebRTC PeerConnection, in the
// shape of the browser's RTCIceServer (and pion's webrtc.ICEServer).
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// PeerInfo names a room member.
type PeerInfo struct {
	ID   transport.PeerID `json:"id"`
	Name string           `json:"name,omitempty"`
}

// RoomInfo is a room as listed by GET /rooms and broadcast to its members.
type RoomInfo struct {
	Room    string `json:"room"`
	Name    string `json:"name,omitempty"`
	Game    string `json:"game,omitempty"`
	Players int    `json:"players"`
	// Held counts the seats held for a member whose connection dropped
	// (the resume grace): they are not players, but they take a place.
	Held     int    `json:"held,omitempty"`
	Max      int    `json:"max"`
	Password bool   `json:"password"`
	State    string `json:"state,omitempty"`
	// Owner is the member who may change the listing and kick (the
	// creator, then the oldest remaining member). Members see it; GET
	// /rooms leaves it out.
	Owner transport.PeerID `json:"owner,omitempty"`
	// Private rooms are never listed; the field is not part of the listing.
	Private bool `json:"-"`
}

// RoomMeta is the listing metadata a member may change with
// Client.SetRoomInfo. Empty strings and a zero Max keep the current value.
type RoomMeta struct {
	Name  string `json:"name,omitempty"`
	Game  string `json:"game,omitempty"`
	State string `json:"state,omitempty"`
	Max   int    `json:"max,omitempty"`
}

// Validate checks m's field lengths and Max: the one check, used by the
// client before sending and by the server on receipt.
func (m *RoomMeta) Validate() error {
	if err := CheckText("name", m.Name, MaxNameLen); err != nil {
		return err
	}
	if err := CheckText("game", m.Game, MaxGameLen); err != nil {
		return err
	}
	if err := CheckText("state", m.State, MaxStateLen); err != nil {
		return err
	}
	if m.Max < 0 || m.Max > MaxRoomMax {
		return ErrorFor(CodeBadRequest, "max %d out of range 0..%d", m.Max, MaxRoomMax)
	}
	return nil
}

// Merge applies u to m as the server applies an update: empty strings and
// a zero Max keep m's value (the server also clamps Max to its room size).
func (m *RoomMeta) Merge(u RoomMeta) { (*rooms.Update)(m).Merge(rooms.Update(u)) }

// Limits are the server's limits, sent in the welcome so that a client can
// pace itself and size its messages.
type Limits struct {
	MaxMessageBytes   int     `json:"max_message_bytes"`
	MessagesPerSecond float64 `json:"messages_per_second"`
	Burst             int     `json:"burst"`
	PingIntervalMS    int64   `json:"ping_interval_ms"`
	IdleTimeoutMS     int64   `json:"idle_timeout_ms"`
	ResumeGraceMS     int64   `json:"resume_grace_ms"`
}

// Frame is every message of the protocol: one flat JSON object whose
// "type" says which fields apply (see doc.go). Unknown fields are ignored,
// so minor additions stay compatible within a version.
type Frame struct {
	Type    string `json:"type"`
	Version int    `json:"version,omitempty"`

	// join
	Room     string `json:"room,omitempty"`
	Name     string `json:"name,omitempty"`
	Password string `json:"password,omitempty"`
	Token    string `json:"token,omitempty"`
	Game     string `json:"game,omitempty"`
	Private  bool   `json:"private,omitempty"`
	Max      int    `json:"max,omitempty"`
	Resume   string `json:"resume,omitempty"`

	// welcome, peer-joined, peer-left, signal
	Peer    transport.PeerID `json:"peer,omitempty"`
	To      transport.PeerID `json:"to,omitempty"`
	Data    json.RawMessage  `json:"data,omitempty"` // signal: a payload that is one JSON value, as is
	Bin     []byte           `json:"bin,omitempty"`  // signal: any other payload (base64)
	Peers   []PeerInfo       `json:"peers,omitempty"`
	ICE     []ICEServer      `json:"ice,omitempty"`
	Info    *RoomInfo        `json:"info,omitempty"`
	Limits  *Limits          `json:"limits,omitempty"`
	Resumed bool             `json:"resumed,omitempty"`

	// room (client → server)
	Meta *RoomMeta `json:"meta,omitempty"`

	// error
	Code       Code   `json:"code,omitempty"`
	Message    string `json:"message,omitempty"`
	MinVersion int    `json:"min_version,omitempty"`
	MaxVersion int    `json:"max_version,omitempty"`
}

// EncodeFrame encodes a message (signals: see EncodeSignal).
func EncodeFrame(f *Frame) []byte {
	b, err := json.Marshal(f)
	if err != nil {
		// Every field is a plain type but Data, which only signals carry,
		// and only when it is a JSON value: Marshal cannot fail.
		panic("signaling: encode: " + err.Error())
	}
	return b
}

// Payload returns a signal's payload, whichever field carries it.
func (f *Frame) Payload() []byte {
	if len(f.Data) > 0 {
		return f.Data
	}
	return f.Bin
}

// DecodeFrame parses one message of at most maxBytes bytes (0 = no
// limit). It is total: any input yields a Frame or an error, never a panic.
// It checks syntax and size only; ValidateClientFrame and
// ValidateServerFrame check the fields of each type.
func DecodeFrame(b []byte, maxBytes int) (f Frame, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = Frame{}, ErrorFor(CodeBadRequest, "undecodable message")
		}
	}()
	if maxBytes > 0 && len(b) > maxBytes {
		return Frame{}, ErrorFor(CodeTooLarge, "message of %d bytes, limit %d", len(b), maxBytes)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return Frame{}, ErrorFor(CodeBadRequest, "message is not a JSON object")
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return Frame{}, ErrorFor(CodeBadRequest, "malformed JSON: %v", err)
	}
	if f.Type == "" {
		return Frame{}, ErrorFor(CodeBadRequest, "missing type")
	}
	return f, nil
}

// CheckVersion returns a CodeVersion error unless v is spoken here.
func CheckVersion(v int) *ServerError {
	if v >= MinProtocolVersion && v <= ProtocolVersion {
		return nil
	}
	e := ErrorFor(CodeVersion, "protocol version %d not supported", v)
	if v == 0 {
		e.Message = "missing protocol version"
	}
	e.MinVersion, e.MaxVersion = MinProtocolVersion, ProtocolVersion
	return e
}

// ValidateClientFrame checks a message a client sent to the server.
func ValidateClientFrame(f *Frame) error {
	switch f.Type {
	case TypeJoin:
		if err := CheckVersion(f.Version); err != nil {
			return err
		}
		if err := CheckID("room", f.Room, MaxRoomLen, true); err != nil {
			return err
		}
		for _, c := range []struct {
			field, v string
			max      int
		}{{"name", f.Name, MaxNameLen}, {"game", f.Game, MaxGameLen}, {"password", f.Password, MaxPasswordLen}, {"token", f.Token, MaxTokenLen}, {"resume", f.Resume, MaxResumeLen}} {
			if err := CheckText(c.field, c.v, c.max); err != nil {
				return err
			}
		}
		if f.Max < 0 || f.Max > MaxRoomMax {
			return ErrorFor(CodeBadRequest, "max %d out of range 0..%d", f.Max, MaxRoomMax)
		}
		if f.Resume != "" && f.Peer == "" {
			return ErrorFor(CodeBadRequest, "resume needs peer")
		}
		if f.Peer != "" {
			if err := CheckID("peer", string(f.Peer), MaxPeerLen, true); err != nil {
				return err
			}
		}
	case TypeSignal:
		if err := CheckID("to", string(f.To), MaxPeerLen, true); err != nil {
			return err
		}
		if len(f.Data) > 0 && len(f.Bin) > 0 {
			return ErrorFor(CodeBadRequest, "signal with both data and bin")
		}
	case TypeRoom:
		m := f.Meta
		if m == nil {
			return ErrorFor(CodeBadRequest, "room update without meta")
		}
		if err := m.Validate(); err != nil {
			return err
		}
	case TypeKick, TypeUnkick:
		if err := CheckID("peer", string(f.Peer), MaxPeerLen, true); err != nil {
			return err
		}
	case TypePing, TypeLeave:
	default:
		return ErrorFor(CodeBadRequest, "unknown message type %q", Truncate(f.Type, 32))
	}
	return nil
}

// ValidateServerFrame checks a message a server sent to a client. Unknown
// types are not an error (the client ignores them, for forward
// compatibility).
func ValidateServerFrame(f *Frame) error {
	switch f.Type {
	case TypeWelcome:
		if f.Version < MinProtocolVersion || f.Version > ProtocolVersion {
			return fmt.Errorf("%w: server answered with version %d", ErrVersion, f.Version)
		}
		if f.Peer == "" {
			return fmt.Errorf("%w: welcome without peer", ErrBadRequest)
		}
	case TypePeerJoined, TypePeerLeft, TypeSignal:
		if f.Peer == "" {
			return fmt.Errorf("%w: %s without peer", ErrBadRequest, f.Type)
		}
	case TypeRoom:
		if f.Info == nil {
			return fmt.Errorf("%w: room without info", ErrBadRequest)
		}
	case TypeICE:
		if len(f.ICE) == 0 {
			return fmt.Errorf("%w: ice without servers", ErrBadRequest)
		}
	case TypeError:
		if f.Code == "" {
			return fmt.Errorf("%w: error without code", ErrBadRequest)
		}
	}
	return nil
}

// CheckID accepts 1..max bytes of [A-Za-z0-9_.-] (empty if !required).
func CheckID(field, s string, max int, required bool) error {
	if s == "" {
		if required {
			return ErrorFor(CodeBadRequest, "missing %s", field)
		}
		return nil
	}
	if len(s) > max {
		return ErrorFor(CodeBadRequest, "%s longer than %d bytes", field, max)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return ErrorFor(CodeBadRequest, "%s may hold only A-Z a-z 0-9 _ - .", field)
		}
	}
	return nil
}

// CheckText accepts valid UTF-8 of at most max bytes without control
// characters.
func CheckText(field, s string, max int) error {
	if len(s) > max {
		return ErrorFor(CodeBadRequest, "%s longer than %d bytes", field, max)
	}
	if !utf8.ValidString(s) {
		return ErrorFor(CodeBadRequest, "%s is not valid UTF-8", field)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return ErrorFor(CodeBadRequest, "%s holds a control character", field)
		}
	}
	return nil
}

func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Close codes of refusals before a join, in the private range 4000-4999:
// 4000 + the HTTP status the refusal stands for. A browser sees only the
// close code and reason of a WebSocket (never an HTTP body), so refusals
// are sent as an accepted upgrade closed at once with the code and the
// protocol's error code as reason (after an error message with the
// details); the client maps both to the same sentinel errors.
const (
	CloseForbidden   websocket.StatusCode = 4403 // origin
	CloseTooMany     websocket.StatusCode = 4429 // rate_limited, too_many_connections from one address
	CloseUnavailable websocket.StatusCode = 4503 // the server's capacity, shutdown
)

// WriteTimeout bounds one write of a message, on either side; a server cuts
// a client that does not take a message within it as a slow consumer.
const WriteTimeout = 10 * time.Second

// Client defaults (zero sigclient.DialOptions fields; each field documents
// its own). One definition: sigclient uses them, and package signaling's
// deprecated Default* names alias them.
const (
	DefaultEventQueueLen      = 1024
	DefaultClientSendQueueLen = 256
	DefaultReconnectMin       = 250 * time.Millisecond
	DefaultReconnectMax       = 10 * time.Second
	DefaultClientPingInterval = 15 * time.Second
	DefaultClientPingTimeout  = 10 * time.Second
)
