package signaling

import (
	"bytes"
	"encoding/json"
	"fmt"
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
	typeJoin       = "join"        // client → server, first message
	typeWelcome    = "welcome"     // server → client, answer to join
	typePeerJoined = "peer-joined" // server → client
	typePeerLeft   = "peer-left"   // server → client
	typeSignal     = "signal"      // both ways: to (client → server), peer = sender (server → client)
	typeRoom       = "room"        // client → server: meta update; server → client: info broadcast
	typePing       = "ping"        // client → server
	typePong       = "pong"        // server → client
	typeLeave      = "leave"       // client → server: leave now, no grace
	typeError      = "error"       // server → client
	typeKick       = "kick"        // client → server: the owner removes peer now and refuses it
	typeUnkick     = "unkick"      // client → server: the owner lets peer back
	typeICE        = "ice"         // server → client: fresh ICE servers (TURN credentials) while seated
)

// Field limits checked by the decoder.
const (
	maxRoomLen     = 64
	maxNameLen     = 64
	maxGameLen     = 64
	maxStateLen    = 32
	maxPasswordLen = 128
	maxTokenLen    = 1024
	maxResumeLen   = 128
	maxPeerLen     = 64
	// maxRoomMax bounds the "max" a client may ask for; the server's
	// MaxRoomSize bounds it further.
	maxRoomMax = 1024
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

// validate checks m's field lengths and Max: the one check, used by the
// client before sending and by the server on receipt.
func (m *RoomMeta) validate() error {
	if err := checkText("name", m.Name, maxNameLen); err != nil {
		return err
	}
	if err := checkText("game", m.Game, maxGameLen); err != nil {
		return err
	}
	if err := checkText("state", m.State, maxStateLen); err != nil {
		return err
	}
	if m.Max < 0 || m.Max > maxRoomMax {
		return errorFor(CodeBadRequest, "max %d out of range 0..%d", m.Max, maxRoomMax)
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

// frame is every message of the protocol: one flat JSON object whose
// "type" says which fields apply (see doc.go). Unknown fields are ignored,
// so minor additions stay compatible within a version.
type frame struct {
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

// encodeFrame encodes a message (signals: see encodeSignal).
func encodeFrame(f *frame) []byte {
	b, err := json.Marshal(f)
	if err != nil {
		// Every field is a plain type but Data, which only signals carry,
		// and only when it is a JSON value: Marshal cannot fail.
		panic("signaling: encode: " + err.Error())
	}
	return b
}

// payload returns a signal's payload, whichever field carries it.
func (f *frame) payload() []byte {
	if len(f.Data) > 0 {
		return f.Data
	}
	return f.Bin
}

// decodeFrame parses one message of at most maxBytes bytes (0 = no
// limit). It is total: any input yields a frame or an error, never a panic.
// It checks syntax and size only; validateClientFrame and
// validateServerFrame check the fields of each type.
func decodeFrame(b []byte, maxBytes int) (f frame, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = frame{}, errorFor(CodeBadRequest, "undecodable message")
		}
	}()
	if maxBytes > 0 && len(b) > maxBytes {
		return frame{}, errorFor(CodeTooLarge, "message of %d bytes, limit %d", len(b), maxBytes)
	}
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return frame{}, errorFor(CodeBadRequest, "message is not a JSON object")
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return frame{}, errorFor(CodeBadRequest, "malformed JSON: %v", err)
	}
	if f.Type == "" {
		return frame{}, errorFor(CodeBadRequest, "missing type")
	}
	return f, nil
}

// checkVersion returns a CodeVersion error unless v is spoken here.
func checkVersion(v int) *ServerError {
	if v >= MinProtocolVersion && v <= ProtocolVersion {
		return nil
	}
	e := errorFor(CodeVersion, "protocol version %d not supported", v)
	if v == 0 {
		e.Message = "missing protocol version"
	}
	e.MinVersion, e.MaxVersion = MinProtocolVersion, ProtocolVersion
	return e
}

// validateClientFrame checks a message a client sent to the server.
func validateClientFrame(f *frame) error {
	switch f.Type {
	case typeJoin:
		if err := checkVersion(f.Version); err != nil {
			return err
		}
		if err := checkID("room", f.Room, maxRoomLen, true); err != nil {
			return err
		}
		for _, c := range []struct {
			field, v string
			max      int
		}{{"name", f.Name, maxNameLen}, {"game", f.Game, maxGameLen}, {"password", f.Password, maxPasswordLen}, {"token", f.Token, maxTokenLen}, {"resume", f.Resume, maxResumeLen}} {
			if err := checkText(c.field, c.v, c.max); err != nil {
				return err
			}
		}
		if f.Max < 0 || f.Max > maxRoomMax {
			return errorFor(CodeBadRequest, "max %d out of range 0..%d", f.Max, maxRoomMax)
		}
		if f.Resume != "" && f.Peer == "" {
			return errorFor(CodeBadRequest, "resume needs peer")
		}
		if f.Peer != "" {
			if err := checkID("peer", string(f.Peer), maxPeerLen, true); err != nil {
				return err
			}
		}
	case typeSignal:
		if err := checkID("to", string(f.To), maxPeerLen, true); err != nil {
			return err
		}
		if len(f.Data) > 0 && len(f.Bin) > 0 {
			return errorFor(CodeBadRequest, "signal with both data and bin")
		}
	case typeRoom:
		m := f.Meta
		if m == nil {
			return errorFor(CodeBadRequest, "room update without meta")
		}
		if err := m.validate(); err != nil {
			return err
		}
	case typeKick, typeUnkick:
		if err := checkID("peer", string(f.Peer), maxPeerLen, true); err != nil {
			return err
		}
	case typePing, typeLeave:
	default:
		return errorFor(CodeBadRequest, "unknown message type %q", truncate(f.Type, 32))
	}
	return nil
}

// validateServerFrame checks a message a server sent to a client. Unknown
// types are not an error (the client ignores them, for forward
// compatibility).
func validateServerFrame(f *frame) error {
	switch f.Type {
	case typeWelcome:
		if f.Version < MinProtocolVersion || f.Version > ProtocolVersion {
			return fmt.Errorf("%w: server answered with version %d", ErrVersion, f.Version)
		}
		if f.Peer == "" {
			return fmt.Errorf("%w: welcome without peer", ErrBadRequest)
		}
	case typePeerJoined, typePeerLeft, typeSignal:
		if f.Peer == "" {
			return fmt.Errorf("%w: %s without peer", ErrBadRequest, f.Type)
		}
	case typeRoom:
		if f.Info == nil {
			return fmt.Errorf("%w: room without info", ErrBadRequest)
		}
	case typeICE:
		if len(f.ICE) == 0 {
			return fmt.Errorf("%w: ice without servers", ErrBadRequest)
		}
	case typeError:
		if f.Code == "" {
			return fmt.Errorf("%w: error without code", ErrBadRequest)
		}
	}
	return nil
}

// checkID accepts 1..max bytes of [A-Za-z0-9_.-] (empty if !required).
func checkID(field, s string, max int, required bool) error {
	if s == "" {
		if required {
			return errorFor(CodeBadRequest, "missing %s", field)
		}
		return nil
	}
	if len(s) > max {
		return errorFor(CodeBadRequest, "%s longer than %d bytes", field, max)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return errorFor(CodeBadRequest, "%s may hold only A-Z a-z 0-9 _ - .", field)
		}
	}
	return nil
}

// checkText accepts valid UTF-8 of at most max bytes without control
// characters.
func checkText(field, s string, max int) error {
	if len(s) > max {
		return errorFor(CodeBadRequest, "%s longer than %d bytes", field, max)
	}
	if !utf8.ValidString(s) {
		return errorFor(CodeBadRequest, "%s is not valid UTF-8", field)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return errorFor(CodeBadRequest, "%s holds a control character", field)
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
