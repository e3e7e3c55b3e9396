package lockstep

import (
	"strconv"

	"github.com/peerplay/peerplay/netcode/transport"
)

// EventKind says what an Event reports.
type EventKind int

const (
	// EventUnknown is the zero EventKind; no Event carries it.
	EventUnknown EventKind = iota
	// EventDesync: a remote seat's checksum differs from ours. Err is the
	// *DesyncError that Advance also returns.
	EventDesync
	// EventPlayerLost: Seat stopped talking (timeout, goodbye, or another
	// survivor reported it); the survivors are agreeing on its drop frame.
	// Frames from here on wait for that agreement.
	EventPlayerLost
	// EventPlayerDropped: Seat is out of the game. Frame is the first frame
	// in which its input is the zero value; every survivor reports the
	// same Frame, and applied the seat's real inputs to every earlier frame.
	EventPlayerDropped
	// EventInputDelay: the adaptive input delay changed to Delay frames.
	EventInputDelay
	// EventRecordError: writing the replay log failed with Err; recording
	// stopped, the game goes on.
	EventRecordError
)

// String returns the kind's name, e.g. "player-dropped".
func (k EventKind) String() string {
	switch k {
	case EventUnknown:
		return "unknown"
	case EventDesync:
		return "desync"
	case EventPlayerLost:
		return "player-lost"
	case EventPlayerDropped:
		return "player-dropped"
	case EventInputDelay:
		return "input-delay"
	case EventRecordError:
		return "record-error"
	default:
		return "unknown(" + strconv.Itoa(int(k)) + ")"
	}
}

// Event is something the game may want to show or act on. Which fields are
// set depends on Kind.
type Event struct {
	Kind  EventKind
	Seat  int              // desync, player-lost, player-dropped
	Peer  transport.PeerID // the seat's peer
	Frame Frame            // desync: the frame; player-dropped: first frame without the seat
	Delay int              // input-delay: the new delay, in frames
	Err   error            // desync: *DesyncError; record-error: the write error
}

// maxEvents bounds the event queue. Overflow rule: the newest events are
// dropped and counted in Stats.EventsDropped (events are rare; a game that
// never calls PollEvents loses only the latest).
const maxEvents = 64

func (s *Session[I]) event(e Event) {
	if len(s.events) >= maxEvents {
		s.stats.EventsDropped++
		return
	}
	s.events = append(s.events, e)
}

// PollEvents returns the events since the previous call, oldest first. The
// returned slice is reused: it is valid until the next PollEvents.
func (s *Session[I]) PollEvents() []Event {
	s.polled = append(s.polled[:0], s.events...)
	clear(s.events)
	s.events = s.events[:0]
	return s.polled
}
