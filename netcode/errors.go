package netcode

import (
	"errors"
	"fmt"

	"github.com/peerplay/peerplay/netcode/transport"
)

var (
	// ErrInvalidConfig wraps every Config validation error from Join.
	ErrInvalidConfig = errors.New("netcode: invalid config")
	// ErrClosed is returned by calls on a closed Mesh. It is
	// transport.ErrClosed, so channel and mesh errors match the same way.
	ErrClosed = transport.ErrClosed
	// ErrRefused is matched (errors.Is) by every *RefusedError.
	ErrRefused = errors.New("netcode: peer refused")
	// ErrSignaling wraps a failure to reach the signaling server in Join.
	ErrSignaling = errors.New("netcode: signaling")
)

// RefusedError tells why the handshake with a peer failed. It is carried
// by EventRefused and matches ErrRefused.
type RefusedError struct {
	Peer transport.PeerID
	// ByRemote is true when the remote peer sent the refusal, false when
	// this side refused.
	ByRemote bool
	// Reason is a short fixed phrase ("game ID or build mismatch", "protocol
	// version mismatch", "channel table mismatch", "bad handshake",
	// "handshake timeout").
	Reason string
	// Detail says what differed, e.g. the two game IDs.
	Detail string
}

func (e *RefusedError) Error() string {
	who := "refused peer"
	if e.ByRemote {
		who = "refused by peer"
	}
	if e.Detail == "" {
		return fmt.Sprintf("netcode: %s %s: %s", who, e.Peer, e.Reason)
	}
	return fmt.Sprintf("netcode: %s %s: %s (%s)", who, e.Peer, e.Reason, e.Detail)
}

// Is makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }
