package signaling

import (
	"github.com/peerplay/peerplay/signaling/internal/proto"
)

// The wire protocol lives in signaling/internal/proto, shared with the
// client (signaling/sigclient). These aliases keep this package's names.

// Protocol types (the client package aliases the same ones).
type (
	ICEServer   = proto.ICEServer
	PeerInfo    = proto.PeerInfo
	RoomInfo    = proto.RoomInfo
	RoomMeta    = proto.RoomMeta
	Limits      = proto.Limits
	ServerError = proto.ServerError
	Code        = proto.Code
)

// Protocol versions: see proto.ProtocolVersion.
const (
	ProtocolVersion    = proto.ProtocolVersion
	MinProtocolVersion = proto.MinProtocolVersion
)

// Error codes (part of the wire protocol; see proto).
const (
	CodeBadRequest   = proto.CodeBadRequest
	CodeVersion      = proto.CodeVersion
	CodeTooLarge     = proto.CodeTooLarge
	CodeRateLimited  = proto.CodeRateLimited
	CodeRoomFull     = proto.CodeRoomFull
	CodeBadPassword  = proto.CodeBadPassword
	CodeBadToken     = proto.CodeBadToken
	CodeTokenExpired = proto.CodeTokenExpired
	CodeTooManyRooms = proto.CodeTooManyRooms
	CodeTooManyConns = proto.CodeTooManyConns
	CodeOrigin       = proto.CodeOrigin
	CodeTimeout      = proto.CodeTimeout
	CodeIdle         = proto.CodeIdle
	CodeUnknownPeer  = proto.CodeUnknownPeer
	CodeResumeFailed = proto.CodeResumeFailed
	CodeSlowConsumer = proto.CodeSlowConsumer
	CodeReplaced     = proto.CodeReplaced
	CodeWrongGame    = proto.CodeWrongGame
	CodeShutdown     = proto.CodeShutdown
	CodeUnavailable  = proto.CodeUnavailable
	CodeInternal     = proto.CodeInternal
	CodeNotOwner     = proto.CodeNotOwner
	CodeKicked       = proto.CodeKicked
)

// Sentinel errors. A *ServerError matches the sentinel of its code with
// errors.Is, so callers write errors.Is(err, signaling.ErrRoomFull).
var (
	ErrBadRequest    = proto.ErrBadRequest
	ErrVersion       = proto.ErrVersion
	ErrTooLarge      = proto.ErrTooLarge
	ErrRateLimited   = proto.ErrRateLimited
	ErrRoomFull      = proto.ErrRoomFull
	ErrBadPassword   = proto.ErrBadPassword
	ErrBadToken      = proto.ErrBadToken
	ErrTokenExpired  = proto.ErrTokenExpired
	ErrTooManyRooms  = proto.ErrTooManyRooms
	ErrTooManyConns  = proto.ErrTooManyConns
	ErrOrigin        = proto.ErrOrigin
	ErrTimeout       = proto.ErrTimeout
	ErrIdle          = proto.ErrIdle
	ErrUnknownPeer   = proto.ErrUnknownPeer
	ErrResumeFailed  = proto.ErrResumeFailed
	ErrSlowConsumer  = proto.ErrSlowConsumer
	ErrReplaced      = proto.ErrReplaced
	ErrWrongGame     = proto.ErrWrongGame
	ErrShutdown      = proto.ErrShutdown
	ErrUnavailable   = proto.ErrUnavailable
	ErrInternal      = proto.ErrInternal
	ErrNotOwner      = proto.ErrNotOwner
	ErrKicked        = proto.ErrKicked
	ErrClosed        = proto.ErrClosed
	ErrSendQueueFull = proto.ErrSendQueueFull
	ErrNotMember     = proto.ErrNotMember
	ErrInvalidConfig = proto.ErrInvalidConfig
	ErrServerSilent  = proto.ErrServerSilent
	ErrServerClosed  = proto.ErrServerClosed
)

// Events (see EventKind for what each kind reports).
type (
	// Event is something that happened in the room or to the connection.
	// The receiver owns Data.
	Event = proto.Event
	// EventKind says what an Event reports.
	EventKind = proto.EventKind
)

// Event kinds (the backplane carries Events; the client package aliases the
// same; named Event…: CONTRIBUTING.md, the drain convention).
const (
	EventKindUnknown  = proto.EventKindUnknown
	EventPeerJoined   = proto.EventPeerJoined
	EventPeerLeft     = proto.EventPeerLeft
	EventSignal       = proto.EventSignal
	EventDisconnected = proto.EventDisconnected
	EventReconnected  = proto.EventReconnected
	EventRoomUpdated  = proto.EventRoomUpdated
	EventFailed       = proto.EventFailed
)

// The event kinds' old, bare names, kept for one release.
const (
	// Deprecated: use EventPeerJoined.
	PeerJoined = EventPeerJoined
	// Deprecated: use EventPeerLeft.
	PeerLeft = EventPeerLeft
	// Deprecated: use EventSignal.
	Signal = EventSignal
	// Deprecated: use EventDisconnected.
	Disconnected = EventDisconnected
	// Deprecated: use EventReconnected.
	Reconnected = EventReconnected
	// Deprecated: use EventRoomUpdated.
	RoomUpdated = EventRoomUpdated
	// Deprecated: use EventFailed.
	Failed = EventFailed
)
