package lockstep

import (
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
)

// Stats is a snapshot of a session's counters and estimates.
type Stats struct {
	Frame      Frame // the next frame Advance will return
	InputFrame Frame // the last frame holding a local input
	InputDelay int   // the current input delay, in frames
	Window     int   // the effective input window (see Config.InputWindow)

	// RTT is the smoothed round-trip time of the worst connected seat,
	// measured between game ticks (it includes the wait for the next
	// Advance on each side); Jitter is its one-way jitter (see
	// AdaptiveDelay).
	RTT    time.Duration
	Jitter time.Duration
	// FramesAhead is how many frames this peer runs ahead of the slowest
	// connected seat (smoothed; negative: behind). See Session.SlowDown.
	FramesAhead float64

	Ticks         uint64 // Advance calls
	Stalls        uint64 // Advance calls that returned no step
	LongestStall  int    // the longest run of consecutive stalled calls
	InputsUnused  uint64 // Advance calls whose local input filled no frame
	WindowFull    uint64 // times the input window stopped the local input
	DatagramsSent uint64
	BytesSent     uint64
	DatagramsRecv uint64
	BytesRecv     uint64
	LargestSent   int    // the largest datagram sent, in bytes
	SendErrors    uint64 // Conn.Send failures (peer not connected, ...)
	Relayed       uint64 // relay datagrams sent during player-loss agreements
	EventsDropped uint64 // events lost to a full queue
	// Signing reports whether admissions are signed (Config.Signer or
	// the Conn's default); SignaturesOK counts admission signatures this
	// peer checked and found valid (its own included).
	Signing      bool
	SignaturesOK uint64

	Dropped Drops // received datagrams dropped, by reason

	Seats []SeatStats // indexed by seat
}

// Drops counts received datagrams dropped, by reason. None is fatal.
type Drops struct {
	Spoofed   uint64 // the datagram's seat is not its transport sender's, or the sender has no seat
	Malformed uint64 // not a valid datagram (wire errors, wrong seat count or input size)
	Oversize  uint64 // larger than MaxDatagram
	Version   uint64 // another wire version (a peer running another Peerplay release)
	Foreign   uint64 // another GameID
	Stale     uint64 // sequence number older than the replay window (64 datagrams)
	Replayed  uint64 // sequence number already seen (a network duplicate or a replay)
	FarFuture uint64 // frames or acks beyond what the sender can have reached
	FromLost  uint64 // from a seat this peer considers lost or dropped
	Conflicts uint64 // inputs that differ from those already held for the same frame (kept the first)
	Refused   uint64 // relays for a seat this peer is not dropping (see EventRefused)
}

// SeatStats describes one seat as seen from this peer.
type SeatStats struct {
	Peer      transport.PeerID
	Local     bool
	Suspected bool  // this peer votes it out (silent or stalling; see Waiting)
	Lost      bool  // lost or dropped
	Dropped   bool  // the drop frame is agreed
	DropFrame Frame // the first frame without its input, if Dropped
	Held      Frame // the last frame of its inputs held here (-1: none)
	// RTT is the smoothed round-trip time to the seat and Jitter its
	// one-way jitter (see AdaptiveDelay), from a ping every 4 datagrams;
	// 0 until measured.
	RTT    time.Duration
	Jitter time.Duration
	// Loss is the fraction of the seat's datagrams lost on the way here,
	// 0 to 1, measured from gaps in their sequence numbers (a datagram
	// overtaken by a later one counts as lost until it arrives; network
	// duplicates do not count): the plain mean over the first 256
	// datagrams, then an exponential moving average with weight 1/256,
	// so it follows the last 256 datagrams (about 4 s at 60 Hz). It is
	// the estimate the adaptive delay uses. 0 for the local seat and for
	// a seat not heard from yet (see Heard).
	Loss float64
	// Heard reports whether any datagram of the seat was accepted.
	Heard     bool
	LastHeard time.Duration // since its last accepted datagram, at the last Advance
}

// Stats returns a snapshot. It allocates (the Seats slice); call it at
// most a few times per second.
func (s *Session[I]) Stats() Stats {
	st := s.stats
	st.Frame = s.next
	st.InputFrame = s.seats[s.me].hold
	st.InputDelay = s.delay
	st.Window = s.cfg.window
	st.Signing = s.cfg.Signer != nil
	st.FramesAhead = s.ahead
	worst := -1
	st.Seats = make([]SeatStats, s.n)
	for t := range s.seats {
		sd := &s.seats[t]
		bit := uint32(1) << t
		st.Seats[t] = SeatStats{
			Peer:      sd.id,
			Local:     t == s.me,
			Suspected: s.suspect&bit != 0,
			Lost:      s.lost&bit != 0,
			Dropped:   s.dropped&bit != 0,
			DropFrame: s.dropFrame[t] + 1,
			Held:      sd.hold,
			RTT:       sd.rtt.srtt,
			Jitter:    sd.rtt.jitter(),
			Loss:      sd.loss,
			Heard:     sd.heard,
		}
		if t != s.me {
			st.Seats[t].LastHeard = s.lastNow.Sub(sd.lastHeard)
		}
		if !st.Seats[t].Dropped {
			st.Seats[t].DropFrame = 0
		}
		if t != s.me && s.lost&bit == 0 && sd.rtt.samples > 0 && (worst < 0 || sd.rtt.srtt > s.seats[worst].rtt.srtt) {
			worst = t
		}
	}
	if worst >= 0 {
		st.RTT, st.Jitter = s.seats[worst].rtt.srtt, s.seats[worst].rtt.jitter()
	}
	return st
}
