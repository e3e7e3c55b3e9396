package sigclient

import "github.com/peerplay/peerplay/signaling/internal/proto"

// The protocol's data types, shared with the server (package signaling
// aliases the same types, so values cross unconverted).
type (
	// ICEServer is one STUN or TURN server for a WebRTC PeerConnection, in
	// the shape of the browser's RTCIceServer (and pion's
	// webrtc.ICEServer).
	ICEServer = proto.ICEServer
	// PeerInfo names a room member.
	PeerInfo = proto.PeerInfo
	// RoomInfo is a room as listed by GET /rooms and broadcast to its
	// members.
	RoomInfo = proto.RoomInfo
	// RoomMeta is the part of a room's listing its members set (see
	// Client.SetRoomInfo); RoomMeta.Validate is the one check of it, run by
	// the client before sending and by the server on receipt.
	RoomMeta = proto.RoomMeta
	// Limits are the server's limits, announced in its welcome.
	Limits = proto.Limits
	// ServerError is an error reported by the server (an "error" message,
	// a close reason, or an HTTP rejection before the upgrade).
	ServerError = proto.ServerError
	// Code is a stable, machine-readable error code of a ServerError.
	Code = proto.Code
)

// ProtocolVersion is the protocol version this client speaks.
const ProtocolVersion = proto.ProtocolVersion

// Error codes of a ServerError (see package signaling for the sentinel
// errors the server's codes match with errors.Is).
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

// Errors of the client itself (a ServerError matches its code's sentinel:
// errors.Is(err, CodeRoomFull.Sentinel())).
var (
	ErrClosed        = proto.ErrClosed
	ErrSendQueueFull = proto.ErrSendQueueFull
	ErrNotMember     = proto.ErrNotMember
	ErrInvalidConfig = proto.ErrInvalidConfig
	// ErrServerSilent: the server stopped answering the client's pings
	// (the Disconnected event's error wraps it); the client reconnects.
	ErrServerSilent = proto.ErrServerSilent
)

// Events (see EventKind for what each kind reports).
type (
	// Event is something that happened in the room or to the connection.
	// The receiver owns Data.
	Event = proto.Event
	// EventKind says what an Event reports.
	EventKind = proto.EventKind
)

// Event kinds (named Event…: CONTRIBUTING.md, the drain convention).
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
