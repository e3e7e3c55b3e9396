package proto

import (
	"fmt"

	"github.com/peerplay/peerplay/netcode/transport"
)

// EventKind says what an Event reports.
type EventKind int

const (
	// EventKindUnknown is the zero value; a Client never emits it.
	EventKindUnknown EventKind = iota
	// EventPeerJoined: Peer joined the room (Name is its display name).
	EventPeerJoined
	// EventPeerLeft: Peer left the room (it left, or its grace period ran out).
	EventPeerLeft
	// EventSignal: Peer sent Data (opaque bytes) to this client.
	EventSignal
	// EventDisconnected: the connection to the server was lost; the Client is
	// reconnecting with backoff and will resume its seat. Err says why.
	// Signals sent meanwhile are queued (bounded) and sent after resuming.
	EventDisconnected
	// EventReconnected: the seat was resumed (same Local ID, same room). Peers
	// may have joined or left meanwhile: EventPeerJoined/EventPeerLeft events for the
	// difference precede this event. Signals sent to this peer while it was
	// away are delivered (the server buffers a bounded number, dropping the
	// oldest); a negotiation in flight may still want an ICE restart.
	EventReconnected
	// EventRoomUpdated: a member changed the room's metadata; Room holds it.
	EventRoomUpdated
	// EventFailed: the Client gave up for good (the seat expired, the server
	// refused the resume, or another fatal error in Err). No further events
	// follow; call Close.
	EventFailed
)

// String returns the kind's name, e.g. "peer-joined".
func (k EventKind) String() string {
	switch k {
	case EventKindUnknown:
		return "unknown"
	case EventPeerJoined:
		return "peer-joined"
	case EventPeerLeft:
		return "peer-left"
	case EventSignal:
		return "signal"
	case EventDisconnected:
		return "disconnected"
	case EventReconnected:
		return "reconnected"
	case EventRoomUpdated:
		return "room-updated"
	case EventFailed:
		return "failed"
	default:
		return fmt.Sprintf("unknown(%d)", int(k))
	}
}

// Event is something that happened in the room or to the connection. The
// receiver owns Data.
type Event struct {
	Kind EventKind
	// Peer is the member the event is about (PeerJoined, PeerLeft) or the
	// sender (Signal).
	Peer transport.PeerID
	// Name is Peer's display name (PeerJoined).
	Name string
	// Data is the signal payload (Signal).
	Data []byte
	// Room is the room's new metadata (RoomUpdated).
	Room *RoomInfo
	// Err says why (Disconnected, Failed).
	Err error
}
