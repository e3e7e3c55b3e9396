package lockstep

import (
	"errors"
	"fmt"

	"github.com/peerplay/peerplay/netcode/transport"
)

var (
	// ErrInvalidConfig wraps every Config validation failure of NewSession.
	ErrInvalidConfig = errors.New("lockstep: invalid config")
	// ErrInputType is returned by NewSession and NewReplay for an input
	// type I that encoding/binary cannot encode as a fixed number of bytes
	// (binary.Size(I) <= 0, unexported fields), or whose size exceeds
	// MaxInputSize.
	ErrInputType = errors.New("lockstep: input type is not a fixed-size binary value")
	// ErrClosed is returned by Advance after Close.
	ErrClosed = errors.New("lockstep: session closed")
	// ErrDesync is matched (errors.Is) by every *DesyncError (the Err of
	// an EventDesync; Spectator.Advance and Replay.Next return theirs).
	ErrDesync = errors.New("lockstep: desync")
	// ErrBadReplay wraps every failure to decode a replay file.
	ErrBadReplay = errors.New("lockstep: malformed replay")
	// ErrReplayNoStart is returned by Replay.Next after Verify on a log
	// that starts after frame 0 (a joiner's) without the game's start
	// state: it can be read, not verified.
	ErrReplayNoStart = errors.New("lockstep: replay starts mid-match without a start state; cannot verify")
	// ErrRecord wraps a failure to write the replay header in NewSession.
	ErrRecord = errors.New("lockstep: cannot record")
	// ErrDropped is matched (errors.Is) by every *DroppedError.
	ErrDropped = errors.New("lockstep: dropped from the match")
	// ErrCutOff is matched (errors.Is) by every *CutOffError.
	ErrCutOff = errors.New("lockstep: cut off from the match")
	// ErrStreamOverflow ends a Spectator whose game does not consume the
	// frames it receives (more than SpectatorConfig.MaxBuffer pending).
	ErrStreamOverflow = errors.New("lockstep: spectator buffer overflow")
	// ErrStreamRefused ends a Spectator whose sources all refused the
	// subscription (too many subscribers, or no catch-up possible: no
	// snapshots and the log no longer starts at frame 0); with failover
	// disabled, the first refusal.
	ErrStreamRefused = errors.New("lockstep: the stream source refused the subscription")
	// errBadStream: a stream message that does not decode (counted,
	// dropped).
	errBadStream = errors.New("lockstep: malformed stream message")
)

// DroppedError reports that a majority of the seats dropped this peer (it
// was silent or stalled them for the disconnect timeout, e.g. a paused
// game loop): the match goes on without it from Frame on.
type DroppedError struct {
	Frame Frame // the first frame without this peer's input
}

func (e *DroppedError) Error() string {
	return fmt.Sprintf("lockstep: dropped from the match by a majority of the seats at frame %d", e.Frame)
}

// Is makes errors.Is(err, ErrDropped) true.
func (e *DroppedError) Is(target error) bool { return target == ErrDropped }

// CutOffError reports that this peer did not hear a majority of the seats
// for twice the disconnect timeout: it stopped at Frame instead of playing
// on alone. In a two-seat match this is how a match ends when the
// opponent is lost (a majority of two is both).
type CutOffError struct {
	Frame   Frame // the next frame it would have run
	Unheard []int // the seats it did not hear
}

func (e *CutOffError) Error() string {
	return fmt.Sprintf("lockstep: cut off at frame %d: seats %v unheard, no majority", e.Frame, e.Unheard)
}

// Is makes errors.Is(err, ErrCutOff) true.
func (e *CutOffError) Is(target error) bool { return target == ErrCutOff }

// DesyncError reports that a peer computed another game-state checksum
// than this one for the same frame: the simulations have diverged. Every
// peer that compares the two checksums reports it, so in a two-player game
// both players see it: a Session as the Err of an EventDesync, a
// Spectator and a Replay from Advance and Next.
type DesyncError struct {
	Frame  Frame            // the frame whose checksums differ
	Seat   int              // the remote seat that disagrees
	Peer   transport.PeerID // that seat's peer
	Local  uint64           // this peer's checksum
	Remote uint64           // the remote seat's checksum
}

func (e *DesyncError) Error() string {
	return fmt.Sprintf("lockstep: desync at frame %d: local checksum %#x, seat %d (%s) has %#x",
		e.Frame, e.Local, e.Seat, e.Peer, e.Remote)
}

// Is makes errors.Is(err, ErrDesync) true.
func (e *DesyncError) Is(target error) bool { return target == ErrDesync }
