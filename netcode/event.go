package netcode

import (
	"fmt"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
)

// EventKind says what happened to a peer or to the signaling link.
type EventKind int

// Event kinds. A peer normally goes Connecting → Connected, then
// Disconnected ↔ Connected while the network wobbles, and ends with
// exactly one of Left, Failed or Refused.
const (
	EventUnknown EventKind = iota
	// EventConnecting: a connection to the peer is being made: it
	// offered to us, or answered our offer (so Peer is its mesh ID, never
	// a provisional signaling ID). Every EventConnecting is followed by
	// EventConnected or by one of Left, Failed, Refused.
	EventConnecting
	// EventConnected: the handshake finished (the peer is now in Peers and
	// on every channel), or a Disconnected peer is reachable again.
	EventConnected
	// EventDisconnected: ICE lost the peer; netcode tries ICE restarts
	// until PeerTimeout. Sends still queue meanwhile.
	EventDisconnected
	// EventFailed: the peer could not be (re)connected in time and was
	// dropped. Err says why; it wraps a *TURNError (errors.Is ErrTURN,
	// ErrTURNAuth for refused credentials) when a TURN server refused
	// this side's relay allocation for the peer.
	EventFailed
	// EventLeft: the peer closed its mesh or left the room.
	EventLeft
	// EventRefused: the handshake failed (version, game ID or channel
	// mismatch, bad handshake). Err is a *RefusedError. A handshake that
	// does not finish within ConnectTimeout is EventFailed (and retried).
	EventRefused
	// EventSignalingLost: the signaling server went away. Connected peers
	// stay connected; new peers cannot join until EventSignalingRestored.
	// With Err matching ErrKicked, the room's owner kicked this mesh out
	// of the room: it stays out (no EventSignalingRestored follows).
	EventSignalingLost
	// EventSignalingRestored: signaling is back.
	EventSignalingRestored
	// EventLinkChanged: a connected peer's link moved between relayed
	// (through TURN) and direct without interrupting the connection (see
	// Config.UpgradeProbes); Stats says what it is now (PeerStats.Link,
	// Direct, Relayed). Nothing is lost on Reliable channels.
	EventLinkChanged
)

// String returns the kind's name.
func (k EventKind) String() string {
	switch k {
	case EventConnecting:
		return "connecting"
	case EventConnected:
		return "connected"
	case EventDisconnected:
		return "disconnected"
	case EventFailed:
		return "failed"
	case EventLeft:
		return "left"
	case EventRefused:
		return "refused"
	case EventSignalingLost:
		return "signaling-lost"
	case EventSignalingRestored:
		return "signaling-restored"
	case EventLinkChanged:
		return "link-changed"
	case EventUnknown:
		return "unknown"
	default:
		return fmt.Sprintf("unknown(%d)", int(k))
	}
}

// Event is one entry of Mesh.PollEvents.
type Event struct {
	Kind EventKind
	// Peer is the remote peer, empty for signaling events.
	Peer transport.PeerID
	// Err says why, for EventFailed and EventRefused (a *RefusedError);
	// nil otherwise.
	Err error
	// At is when the mesh noticed.
	At time.Time
}

func (e Event) String() string {
	s := e.Kind.String()
	if e.Peer != "" {
		s += " " + string(e.Peer)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}
