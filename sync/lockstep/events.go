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
	// *DesyncError (errors.Is ErrDesync) with the frame and both sums. The
	// only delivery of a desync (Advance does not return it) and the
	// session goes on: the game decides.
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
	// EventRefused: a message of Seat was refused: Reason says why (a relay
	// for a seat not being dropped, a lost report not adopted, impossible
	// acks or frames, speaking for another seat). At most one a second
	// per seat; Stats.Dropped counts every one.
	EventRefused
	// EventWaiting: the next frame has waited Config.WaitNotify for
	// Seat's input (Session.Waiting says for how long since): show
	// "waiting for <Peer>…".
	EventWaiting
	// EventResumed: the wait reported by EventWaiting (Seat) or
	// EventCutOff (Seat -1) is over.
	EventResumed
	// EventCutOff: this peer does not hear a majority of the seats, so it
	// stopped advancing (it never plays on alone). If they come back
	// within Config.DisconnectTimeout the game resumes (EventResumed);
	// otherwise it reports EventCutOff again with Err a *CutOffError, and
	// Advance returns that error from then on.
	EventCutOff
	// EventDropped: this peer was dropped by a majority of the seats at
	// Frame (it came back too late). Err is the *DroppedError that Advance
	// returns from then on.
	EventDropped
	// EventRejoined: Seat (a dropped seat, or this peer with Config.Join)
	// is back in the match: its input counts again from Frame (see
	// "Rejoin" in the package doc).
	EventRejoined
	// EventSourceSwitched (a Spectator's, see "Source failover" in the
	// package doc): the spectator left its source From and follows Peer
	// (Seat: its index, 0 SpectatorConfig.Source, 1.. Witnesses), resuming
	// at Frame; Reason says why.
	EventSourceSwitched
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
	case EventRefused:
		return "refused"
	case EventWaiting:
		return "waiting"
	case EventResumed:
		return "resumed"
	case EventCutOff:
		return "cut-off"
	case EventDropped:
		return "dropped"
	case EventRejoined:
		return "rejoined"
	case EventSourceSwitched:
		return "source-switched"
	default:
		return "unknown(" + strconv.Itoa(int(k)) + ")"
	}
}

// Event is something the game may want to show or act on. Which fields are
// set depends on Kind.
type Event struct {
	Kind   EventKind
	Seat   int              // desync, player-lost, player-dropped, refused (the sender), waiting, resumed; -1: none
	Peer   transport.PeerID // the seat's peer; source-switched: the new source
	From   transport.PeerID // source-switched: the old source
	Frame  Frame            // desync: the frame; player-dropped, dropped: first frame without the seat; others: the next frame
	Delay  int              // input-delay: the new delay, in frames
	Reason string           // player-lost, player-dropped, refused, cut-off, dropped: why, for logs and players
	Err    error            // desync: *DesyncError; record-error: the write error; cut-off (final): *CutOffError; dropped: *DroppedError
}

// maxEvents bounds the event queue. Overflow rule (the drain convention,
// CONTRIBUTING.md): the oldest event is dropped and counted in
// Stats.EventsDropped, so a game that stalled sees the latest facts (a
// desync, who was dropped) rather than stale ones.
const maxEvents = 64

func (s *Session[I]) event(e Event) {
	if s.events.Push(e, maxEvents) {
		s.stats.EventsDropped++
	}
}

// PollEvents returns the events since the previous call, oldest first. The
// returned slice is reused: it is valid until the next PollEvents (the
// drain convention, CONTRIBUTING.md). Events are the one delivery of
// facts: a desync is EventDesync (with its *DesyncError) and nothing else;
// Advance's errors only say that it cannot proceed.
func (s *Session[I]) PollEvents() []Event {
	return s.events.Drain()
}
