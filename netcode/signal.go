package netcode

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/pion/webrtc/v4"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/signaling/sigclient"
)

// The mesh talks to signaling through this interface; *sigclient.Client
// satisfies it as is (signaling_client.go).
type signaler interface {
	Local() transport.PeerID
	Peers() []transport.PeerID
	ICEServers() []ICEServer
	// Events is closed after Close (or when the client gives up).
	Events() <-chan sigclient.Event
	// Signal sends opaque bytes to a peer of the room; it never blocks.
	Signal(to transport.PeerID, data []byte) error
	// SetRoomInfo queues a listing update; it never blocks. RoomInfo is
	// the listing as last heard.
	SetRoomInfo(RoomMeta) error
	RoomInfo() RoomInfo
	// Kick and Unkick ask the server to remove a seat from the room and
	// refuse it, or to let it back (room owner only; never blocks).
	Kick(seat transport.PeerID) error
	Unkick(seat transport.PeerID) error
	Close() error
}

type dialFunc func(ctx context.Context, cfg *Config) (signaler, error)

// signalVersion is the version of the mesh's messages carried by
// signaling (the "v" field).
const signalVersion = 1

// maxSignalSize bounds a signal message we accept (an SDP is a few KiB).
const maxSignalSize = 64 << 10

// signalMsg is what one peer's mesh sends another through signaling, as
// JSON: an offer, an answer, one trickled ICE candidate, or "dup" (the
// answer to an offer from a peer already connected under its mesh ID).
// Session names one PeerConnection (the offerer picks it at random), so
// messages for a replaced connection are ignored. ID is the sender's mesh
// identity (its signaling ID when its mesh joined), which differs from its
// signaling ID after it re-joined a restarted server.
type signalMsg struct {
	V       int                      `json:"v"`
	Type    string                   `json:"t"` // "offer", "answer", "cand", "dup"
	Session uint64                   `json:"s,string"`
	ID      transport.PeerID         `json:"id"`
	SDP     string                   `json:"sdp,omitempty"`
	Cand    *webrtc.ICECandidateInit `json:"c,omitempty"`
}

var errBadSignal = errors.New("netcode: bad signal message")

func decodeSignal(p []byte) (signalMsg, error) {
	var m signalMsg
	if len(p) > maxSignalSize {
		return m, fmt.Errorf("%w: %d bytes", errBadSignal, len(p))
	}
	if err := json.Unmarshal(p, &m); err != nil {
		return m, fmt.Errorf("%w: %v", errBadSignal, err)
	}
	if m.V != signalVersion {
		return m, fmt.Errorf("%w: version %d, want %d", errBadSignal, m.V, signalVersion)
	}
	switch m.Type {
	case "offer", "answer":
		if m.SDP == "" {
			return m, fmt.Errorf("%w: %s without SDP", errBadSignal, m.Type)
		}
	case "cand":
		if m.Cand == nil {
			return m, fmt.Errorf("%w: cand without candidate", errBadSignal)
		}
	case "dup":
	default:
		return m, fmt.Errorf("%w: type %q", errBadSignal, m.Type)
	}
	if m.Session == 0 {
		return m, fmt.Errorf("%w: session 0", errBadSignal)
	}
	if m.ID == "" {
		return m, fmt.Errorf("%w: no sender ID", errBadSignal)
	}
	return m, nil
}

func encodeSignal(m signalMsg) []byte {
	m.V = signalVersion
	b, err := json.Marshal(m)
	if err != nil { // cannot happen: plain strings and numbers
		panic(fmt.Sprintf("netcode: encoding a signal message: %v", err))
	}
	return b
}
