package lobby

import (
	"errors"
	"fmt"

	"github.com/peerplay/peerplay/netcode/transport"
)

var (
	// ErrInvalidConfig wraps every configuration error New reports.
	ErrInvalidConfig = errors.New("lobby: invalid config")
	// ErrClosed is returned by calls on a closed Lobby.
	ErrClosed = errors.New("lobby: closed")
	// ErrNotHost is returned by host-only calls (SetSettings, Kick, Start,
	// Reopen) on a peer that is not the host.
	ErrNotHost = errors.New("lobby: not the host")
	// ErrPhase is returned by a call the lobby's phase does not allow,
	// such as SetSettings while a match is starting.
	ErrPhase = errors.New("lobby: not allowed in this phase")
	// ErrNotMember is returned by Kick for a peer that is not a member.
	ErrNotMember = errors.New("lobby: not a member")
	// ErrInvalidSettings is returned by SetSettings for settings out of
	// range (MaxPlayers outside 1..MaxMembers, Data above MaxSettingsSize).
	ErrInvalidSettings = errors.New("lobby: invalid settings")
	// ErrLobbyFull is the Err of an EventRejected: the host turned the
	// local peer away because the lobby has MaxPlayers members.
	ErrLobbyFull = errors.New("lobby: full")
	// ErrKicked is the Err of an EventKicked, and of an EventRejected when
	// a kicked peer asks to join again.
	ErrKicked = errors.New("lobby: kicked by the host")
	// ErrRefusedClaim is the Err of an EventRefused for a host claim the
	// sender had no right to make (a term change outside a migration the
	// local peer observes, a member claiming to host its own lobby).
	ErrRefusedClaim = errors.New("lobby: host claim refused")
	// ErrRefusedAbort is the Err of an EventRefused for an Abort of a
	// start round that came after the local peer revealed its nonce: the
	// round goes on (see the package doc, "Threat model").
	ErrRefusedAbort = errors.New("lobby: abort after reveal refused")
	// ErrBadReveal is the Err of an EventRefused for a nonce that does not
	// open the sender's (or, in a Launch, a seat's) commitment.
	ErrBadReveal = errors.New("lobby: nonce does not open its commitment")
	// ErrRefusedRunning is the Err of an EventRefused for a Running
	// message (a seat or a stream of the running match) that did not come
	// from the host, or that contradicts the match the receiver holds.
	ErrRefusedRunning = errors.New("lobby: running-match message refused")
	// ErrLateJoinOff is returned by JoinRunning while the host's
	// Settings.LateJoin is off.
	ErrLateJoinOff = errors.New("lobby: the host does not seat newcomers in a running match")
	// ErrMalformed wraps every error of the wire decoder: the message was
	// dropped and counted (Stats.Malformed).
	ErrMalformed = errors.New("lobby: malformed message")
	// ErrVersion is returned by the decoder for a message of another wire
	// version.
	ErrVersion = errors.New("lobby: unsupported wire version")
)

// StartReason says why a start round failed.
type StartReason int

const (
	// StartReasonUnknown is the zero value.
	StartReasonUnknown StartReason = iota
	// StartReasonLeft: a seated peer left or disconnected.
	StartReasonLeft
	// StartReasonTimeout: a seated peer did not commit, reveal or confirm
	// within Config.StartTimeout.
	StartReasonTimeout
	// StartReasonMismatch: peers computed different proposals or Matches.
	StartReasonMismatch
	// StartReasonBadReveal: a peer revealed a nonce that does not match its
	// commitment.
	StartReasonBadReveal
	// StartReasonCancelled: the host cancelled the round (a kick, a call).
	StartReasonCancelled
	// StartReasonHostChanged: the host left during the round.
	StartReasonHostChanged
	// StartReasonWithheld: Peer did not reveal its nonce within
	// Config.StartTimeout although every other seat had revealed: it may
	// have seen the seed and disliked it. The local peer excludes it from
	// every later match of this lobby (State.Excluded).
	StartReasonWithheld
	// StartReasonExcluded: the proposal seats Peer, whom a seat excluded
	// (StartReasonWithheld); the seat refused to commit.
	StartReasonExcluded
)

var startReasonNames = [...]string{"unknown", "left", "timeout", "mismatch", "bad reveal", "cancelled", "host changed", "withheld", "excluded"}

// String returns a short lower-case name, or "unknown(N)".
func (r StartReason) String() string {
	if r >= 0 && int(r) < len(startReasonNames) {
		return startReasonNames[r]
	}
	return fmt.Sprintf("unknown(%d)", int(r))
}

// StartError is the Err of an EventStartFailed: the round was abandoned on
// every peer, nobody started, and the lobby is open again.
type StartError struct {
	Round  uint32
	Reason StartReason
	// Peer is the peer the round failed on, if one (the one who left, timed
	// out or revealed a bad nonce).
	Peer transport.PeerID
}

func (e *StartError) Error() string {
	if e.Peer != "" {
		return fmt.Sprintf("lobby: start round %d failed: %s (peer %s)", e.Round, e.Reason, e.Peer)
	}
	return fmt.Sprintf("lobby: start round %d failed: %s", e.Round, e.Reason)
}
