package lockstep

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep/internal/wire"
)

// Defaults used for zero Config fields.
const (
	DefaultInputDelay        = 2
	DefaultMaxInputDelay     = 20
	DefaultTickRate          = 60
	DefaultInputWindow       = 64
	DefaultChecksumInterval  = 30
	DefaultDisconnectTimeout = 5 * time.Second
	DefaultWaitNotify        = 500 * time.Millisecond
	DefaultJoinTimeout       = 10 * time.Second
	DefaultAdaptiveMargin    = 1.0
	DefaultAdaptiveHold      = time.Second
	DefaultLossTarget        = 0.001
)

const (
	// MaxSeats is the largest number of seats in a session.
	MaxSeats = wire.MaxSeats
	// MaxInputSize is the largest input type, in encoded bytes.
	MaxInputSize = 64
	// MaxDatagram is the largest datagram a session sends, in bytes: one
	// SCTP packet, so an unreliable data channel never fragments it.
	MaxDatagram = wire.MaxDatagram
)

// Config configures a Session. The zero value of every field is a
// documented default; only Seats is required.
type Config struct {
	// Seats lists the peers playing, the local one included, in seat
	// order: a seat number is an index into this list, as given (the
	// lobby's Match.Seats, so lobby seats and teams line up with Step
	// inputs). Every peer must pass the same list in the same order; a
	// peer whose order differs never hears the others (its datagrams name
	// another seat than their sender's and are refused: EventRefused), so
	// it fails at the join timeout instead of mixing up inputs. Sort the
	// list first if the peers have no agreed order.
	Seats []transport.PeerID

	// InputDelay is the number of frames between the tick a local input
	// is given to Advance and the frame it takes effect in: the latency
	// budget inputs have to reach every peer. 0 means DefaultInputDelay
	// (2 frames, GGPO's sample value); with Adaptive it is the starting
	// value.
	InputDelay int
	// MaxInputDelay caps InputDelay and the adaptive delay. 0 means
	// DefaultMaxInputDelay (20 frames, 333 ms at 60 Hz), lowered to fit
	// the input window when inputs are large.
	MaxInputDelay int
	// Adaptive, when Enabled, recomputes the delay from measured RTT and
	// jitter (see AdaptiveDelay).
	Adaptive AdaptiveDelay

	// CatchUp is the most frames one Advance returns. 0 means 1: after a
	// stall the game resumes at one frame per tick, which keeps local
	// inputs evenly spaced and stalls rare. Higher values let a peer that
	// fell behind catch up in fewer ticks, but the frames caught up in one
	// tick share one local input and are sent together, so the next stall
	// tends to come in the same rhythm. At most MaxInputDelay+1.
	CatchUp int

	// SendInterval spaces this peer's Frame datagrams: one every
	// ceil(SendInterval/tick) ticks, or as soon as SendInterval has passed
	// since the last one (a late loop still sends on time). Each datagram
	// carries every local input not yet acknowledged, so the inputs of the
	// ticks in between ride in the next one. The input delay accounts for
	// the wait: the defaults of InputDelay and MaxInputDelay, and the
	// adaptive delay, grow by the interval's ticks minus one. RTS games
	// (200 ms at 60 Hz: 12 ticks) trade that latency for 1/12 of the
	// datagrams. Datagrams still go out every tick while a link is being
	// measured (start-up) and while a seat is suspected or lost. 0 means
	// every tick.
	SendInterval time.Duration

	// TickRate is how many times per second the game calls Advance. The
	// session schedules nothing itself; the rate converts RTT into frames
	// for the adaptive delay and time sync. 0 means 60.
	TickRate int
	// InputWindow bounds the local inputs not yet acknowledged by every
	// peer; each datagram carries all of them, so it also bounds the
	// datagram. When the window is full the local input is not used (the
	// session stalls until acknowledgements arrive). 0 means
	// DefaultInputWindow (64 frames); it is lowered to what fits
	// MaxDatagram for the seat count and input size.
	InputWindow int
	// ChecksumInterval is the distance, in frames, between the frames
	// whose checksums peers compare (ReportChecksum ignores the others).
	// 0 means DefaultChecksumInterval (30); negative disables the check.
	ChecksumInterval int
	// DisconnectTimeout is how long a seat may stay silent (or stall the
	// match while talking) before this peer votes to drop it; a majority
	// of the seats must vote so. It is also how long a peer that hears no
	// majority waits before giving up (CutOffError); a drop agreement may
	// be blocked for JoinTimeout plus this before the blocker is voted
	// out. 0
	// means 5 s (GGPO's sample value): a game loop paused for a few
	// seconds (a loading hitch, a window drag) resumes instead of being
	// dropped.
	DisconnectTimeout time.Duration
	// WaitNotify is how long the next frame waits for a seat's input
	// before EventWaiting names it. 0 means 500 ms (GGRS's
	// disconnect_notify_start).
	WaitNotify time.Duration
	// JoinTimeout replaces DisconnectTimeout for a seat never heard from
	// since the session started (peers start their sessions at slightly
	// different times). 0 means 10 s.
	JoinTimeout time.Duration

	// GameID tags every datagram (as a 32-bit tag: its two halves
	// XORed); datagrams of another game are dropped (a previous match on
	// the same channel). Two IDs that differ in only one half always have
	// different tags. It is written to replays.
	GameID uint64
	// Seed is the game's seed, written to replays (the session itself
	// uses no randomness). Every peer passes the same: a joiner
	// (Config.Join) whose Seed or Settings differ from the survivors' is
	// refused (its lobby told it another match). 0 is a seed like any
	// other.
	Seed uint64
	// Settings are the match's settings as the game encodes them (e.g.
	// lobby.Match.Settings.Data), at most MaxReplaySettings bytes. They
	// are written to replays (ReplayHeader.Settings), so a replay
	// carries what it needs to be played back, and compared at a join
	// (see Seed). nil: none.
	Settings []byte
	// Record, if set, receives the replay log: a header and every Step
	// and reported checksum (see Replay). Writes are buffered; Close
	// flushes. The session does not close it.
	Record io.Writer

	// Control is a Reliable channel (used by nothing else) on which
	// sessions agree on readmitting a dropped seat (see "Rejoin" in the
	// package doc). nil: this session neither asks for nor grants
	// readmission; dropped seats stay dropped.
	Control transport.Conn
	// Signer signs this peer's admissions as the coordinator and checks
	// the coordinator's signature on every admission and on the admission
	// each acknowledgement carries, so that a coordinator that tells
	// survivors different frames is proven a liar and voted out instead
	// of the honest seats (see "Rejoin" in the package doc). Every seat
	// must set one or none: a seat with a Signer refuses unsigned
	// admissions. netcode.NewSigner implements it with the mesh
	// identity (its signatures carry the key, checked against the
	// PeerID). nil: the Signer of the session's Conn (or else of
	// Control) if it is a transport.SignerSource, as netcode's channels
	// are (the mesh identity's, when every seat has a key-derived ID);
	// with Control set and no such Conn (memnet, a browser seat in the
	// match), or with Unsigned, admissions are unsigned, and an
	// acknowledgement of another frame is a vote against its sender
	// (which lets a lying coordinator turn the honest seats against each
	// other).
	Signer Signer
	// Unsigned turns off the default Signer (the Conn's, see Signer): a
	// nil Signer then means unsigned admissions. Every seat must agree;
	// only for matches whose seats cannot all sign (an identity whose
	// signature exceeds 255 bytes, e.g. RSA: see "Rejoin" in the package
	// doc). false: the default applies. Ignored when Signer is set.
	Unsigned bool
	// Join makes this session enter a running match in which its seat was
	// dropped (a player whose process crashed or paused too long, with the
	// same identity): it asks the others on Control and advances nothing
	// until admitted (JoinFrame). Requires Control. false: the session
	// starts with the match at frame 0.
	Join bool
	// Reserved lists seats (of Seats) that start empty: their input is the
	// zero value (InputDropped) from frame 0 on, as if dropped before the
	// first frame, until a newcomer takes the seat with Config.Join (join
	// in progress). They do not count toward the majority while empty.
	// Every peer must pass the same list. nil: every seat plays from
	// frame 0.
	Reserved []transport.PeerID

	// DesyncErrors makes Advance also return each detected *DesyncError
	// once (with no steps, the session going on), as it did before each
	// fact had one delivery. false (the zero value): a desync is delivered
	// only as EventDesync.
	//
	// Deprecated: read EventDesync from PollEvents (its Err is the same
	// *DesyncError). This field goes in the next release.
	DesyncErrors bool

	// Now is the session's only clock. nil means time.Now.
	Now func() time.Time
	// Logger receives rare events (player loss, desync, delay changes).
	// nil discards.
	Logger *slog.Logger
}

// AdaptiveDelay derives the input delay from the worst measured link:
//
//	delay = ceil((rtt/2 + Margin·jitter) / tick) + lossFrames + wait
//
// where wait is Config.SendInterval in ticks, minus one (an input given
// just after a send waits that long for the next datagram), rtt is the
// smoothed round-trip time (RFC 6298's srtt, after at least 8 samples),
// jitter the one-way jitter: half the 95th percentile of
// the variation between consecutive RTT samples over the last 64, and
// lossFrames the extra frames a lossy link needs: the inputs of a lost
// datagram ride again in the next one, a tick later, so with a measured
// loss rate p an input has k+1 chances to arrive in time with k extra
// frames; k is the smallest with p^(k+1) <= LossTarget, at most 4. The
// worst connected seat counts, and the result is clamped to [Min, Max]. A
// higher delay applies at once (stalls cost more than latency); a lower
// one only after it has been enough for Hold, one frame at a time
// (hysteresis; each step down discards one local input).
//
// Jitter from consecutive variations (as RTP's interarrival jitter),
// rather than RFC 6298's deviation from the mean, keeps a step change of
// the RTT (a route change) from reading as jitter: the delay moves from
// the old level to the new one without overshooting. The RTT is measured
// between game ticks, so it includes the wait for the next Advance on each
// side (up to a tick each way), which inputs suffer too; but not the
// local loop's lateness: a datagram read by an Advance that came late
// (its loop starved of CPU) counts as read when the loop should have run
// (loopClock in localload.go), so a busy peer does not read its own
// lateness as jitter nor, through its echoes, raise everyone's delay.
type AdaptiveDelay struct {
	// Enabled turns adaptation on; otherwise InputDelay is fixed.
	Enabled bool
	// Min is the smallest delay. 0 means 1.
	Min int
	// Max is the largest delay. 0 means Config.MaxInputDelay.
	Max int
	// Margin multiplies the jitter. 0 means 1.
	Margin float64
	// Hold is how long a lower delay must suffice before the delay
	// shrinks by one frame. 0 means 1 s.
	Hold time.Duration
	// LossTarget is the acceptable probability, per link and frame, that
	// every copy of an input is lost or late. 0 means 0.001; 1 ignores
	// loss.
	LossTarget float64
}

// settings is a validated Config with defaults applied.
type settings struct {
	Config
	tick   time.Duration
	window int // effective InputWindow
	relay  int // inputs per relay datagram
}

func (c Config) normalize(local transport.PeerID, isize int) (settings, error) {
	bad := func(format string, a ...any) (settings, error) {
		return settings{}, fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, a...))
	}
	c.Seats = slices.Clone(c.Seats)
	c.Settings = slices.Clone(c.Settings)
	c.Reserved = slices.Clone(c.Reserved)
	sorted := slices.Sorted(slices.Values(c.Seats))
	switch {
	case len(c.Seats) == 0:
		return bad("no seats")
	case len(c.Seats) > MaxSeats:
		return bad("%d seats, at most %d", len(c.Seats), MaxSeats)
	case len(c.Settings) > MaxReplaySettings:
		return bad("%d bytes of settings, at most %d", len(c.Settings), MaxReplaySettings)
	case len(slices.Compact(sorted)) != len(c.Seats):
		return bad("duplicate seat in %v", c.Seats)
	case slices.ContainsFunc(c.Reserved, func(id transport.PeerID) bool { return !slices.Contains(c.Seats, id) }):
		return bad("reserved seat not in %v", c.Seats)
	case len(c.Reserved) >= len(c.Seats):
		return bad("every seat reserved")
	case c.Join && c.Control == nil:
		return bad("Join without a Control channel")
	case !slices.Contains(c.Seats, local):
		return bad("local peer %q is not seated in %v", local, c.Seats)
	case c.InputDelay < 0, c.MaxInputDelay < 0, c.CatchUp < 0, c.TickRate < 0, c.InputWindow < 0,
		c.DisconnectTimeout < 0, c.JoinTimeout < 0, c.WaitNotify < 0, c.SendInterval < 0,
		c.Adaptive.Min < 0, c.Adaptive.Max < 0, c.Adaptive.Margin < 0, c.Adaptive.Hold < 0, c.Adaptive.LossTarget < 0, c.Adaptive.LossTarget > 1:
		return bad("negative value")
	}
	if c.TickRate == 0 {
		c.TickRate = DefaultTickRate
	}
	if c.InputWindow == 0 {
		c.InputWindow = DefaultInputWindow
	}
	frameCap, relayCap := datagramCapacity(len(c.Seats), isize)
	window := min(c.InputWindow, frameCap)
	tick := time.Second / time.Duration(c.TickRate)
	wait := sendTicks(c.SendInterval, tick) - 1 // ticks an input may wait to be sent
	if c.MaxInputDelay == 0 {
		c.MaxInputDelay = min(DefaultMaxInputDelay+wait, window-2)
	}
	if c.InputDelay == 0 {
		c.InputDelay = min(DefaultInputDelay+wait, c.MaxInputDelay)
	}
	a := &c.Adaptive
	if a.Min == 0 {
		a.Min = 1
	}
	if a.Max == 0 {
		a.Max = c.MaxInputDelay
	}
	if a.Margin == 0 {
		a.Margin = DefaultAdaptiveMargin
	}
	if a.Hold == 0 {
		a.Hold = DefaultAdaptiveHold
	}
	if a.LossTarget == 0 {
		a.LossTarget = DefaultLossTarget
	}
	if c.CatchUp == 0 {
		c.CatchUp = 1
	}
	if c.ChecksumInterval == 0 {
		c.ChecksumInterval = DefaultChecksumInterval
	}
	if c.DisconnectTimeout == 0 {
		c.DisconnectTimeout = DefaultDisconnectTimeout
	}
	if c.JoinTimeout == 0 {
		c.JoinTimeout = DefaultJoinTimeout
	}
	if c.WaitNotify == 0 {
		c.WaitNotify = DefaultWaitNotify
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.MaxInputDelay < 1:
		return bad("input window %d (at most %d inputs of %d bytes fit a datagram for %d seats) leaves no room for an input delay",
			window, frameCap, isize, len(c.Seats))
	case c.MaxInputDelay+2 > window:
		return bad("MaxInputDelay %d needs an input window of at least %d, have %d (datagram room: %d inputs of %d bytes)",
			c.MaxInputDelay, c.MaxInputDelay+2, window, frameCap, isize)
	case c.CatchUp > c.MaxInputDelay+1:
		return bad("CatchUp %d above MaxInputDelay+1 = %d", c.CatchUp, c.MaxInputDelay+1)
	case c.InputDelay > c.MaxInputDelay:
		return bad("InputDelay %d above MaxInputDelay %d", c.InputDelay, c.MaxInputDelay)
	case a.Min > a.Max || a.Max > c.MaxInputDelay:
		return bad("adaptive delay range [%d, %d] outside [1, %d]", a.Min, a.Max, c.MaxInputDelay)
	}
	if a.Enabled {
		c.InputDelay = max(a.Min, min(a.Max, c.InputDelay))
	}
	return settings{
		Config: c,
		tick:   tick,
		window: window,
		relay:  relayCap,
	}, nil
}

// datagramCapacity returns how many inputs of isize bytes fit a Frame
// datagram for seats seats (with every optional field at its largest) and
// a Relay datagram, by encoding the worst case with one input.
func datagramCapacity(seats, isize int) (frame, relay int) {
	enc := wire.NewEncoder()
	one := make([]byte, isize)
	p := wire.Packet{
		Kind: wire.KindFrame, Game: ^uint32(0), Seat: uint8(seats - 1), Seq: ^uint16(0), Ping: true,
		InputSize: uint8(isize), Frame: wire.MaxFrame - 1, Start: wire.MaxFrame - 1, Inputs: one,
		Lost: ^uint16(0), Seats: seats, NumEchoes: seats - 1, NumChecksums: wire.MaxChecksums,
	}
	for i := range seats {
		p.Acks[i] = p.Frame
	}
	for i := range p.NumEchoes {
		p.Echoes[i] = wire.Echo{Seat: uint8(i), Seq: ^uint16(0), Hold: wire.MaxHold}
	}
	for i := range p.Checksums {
		p.Checksums[i] = wire.Checksum{Frame: wire.MaxFrame, Sum: ^uint64(0)}
	}
	const pad = 3 // the input vector is padded to 4 bytes
	buf, err := enc.Encode(&p)
	if err != nil {
		return 0, 0
	}
	frame = (MaxDatagram-len(buf)-pad)/isize + 1
	p = wire.Packet{Kind: wire.KindRelay, Game: ^uint32(0), Seat: wire.MaxSeats - 1, Seq: ^uint16(0),
		InputSize: uint8(isize), LostSeat: wire.MaxSeats - 1, Start: wire.MaxFrame - 1, Inputs: one}
	buf, err = enc.Encode(&p)
	if err != nil {
		return frame, 0
	}
	relay = (MaxDatagram-len(buf)-pad)/isize + 1
	return frame, relay
}
