package lockstep

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/peerplay/peerplay/internal/drain"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/internal/predict"
	"github.com/peerplay/peerplay/sync/lockstep/internal/wire"
)

// Session runs deterministic lockstep for one peer over a transport.Conn
// (an unreliable channel: inputs carry their own redundancy). It starts no
// goroutines and reads the clock only through Config.Now; the game loop
// drives it by calling Advance once per tick.
//
// A Session is not safe for concurrent use: call it from the game loop
// only.
type Session[I any] struct {
	conn  transport.Conn
	cfg   settings
	n     int // seats
	me    int // local seat
	isize int // encoded input size
	rcap  Frame
	all   uint32 // bit per seat
	start time.Time

	seats []seat

	next  Frame // the next frame to return
	delay int   // current input delay

	lost      uint32 // seats lost or dropped (never me)
	dropped   uint32 // seats whose drop frame is agreed
	left      uint32 // seats lost by their own goodbye (they vote no more)
	suspect   uint32 // this peer's own votes, recomputed every tick
	silent    uint32 // the suspects it does not hear (the cut-off rule counts these)
	dropFrame [MaxSeats]Frame

	pendingSince time.Time // the running agreement started
	cutOff       bool      // this peer does not hear a majority
	cutSince     time.Time
	excluded     error // *DroppedError or *CutOffError: the session is over for this peer

	waitSeat     int // the seat the next frame waits for (-1: none)
	waitNotified bool

	// Checksums: the local ring, and the newest ones with how many more
	// Frame datagrams carry each (checksumSends after it is reported).
	local    [checksumRing]sumEntry
	recent   [wire.MaxChecksums]wire.Checksum
	sendsFor [wire.MaxChecksums]int
	errQueue error // the first undelivered *DesyncError (Config.DesyncErrors only)

	// Adaptive delay and time sync.
	lowSince  time.Time
	ahead     float64
	slowAfter uint64 // tick before which SlowDown stays 0

	enc     *wire.Encoder
	dec     wire.Decoder
	in, out wire.Packet
	game    uint32 // wire.GameTag(GameID)
	print   uint64 // matchPrint(Seed, Settings): a join request's (rejoin.go)
	seq     uint16 // of the next Frame datagram
	pings   [pingRing]pingSent
	scratch []byte
	tmp     I
	zero    I

	steps    []Step[I]
	stepIn   []I
	statusIn []InputStatus

	events  drain.Queue[Event]
	stats   Stats
	stall   int
	lastNow time.Time
	sendClk sendClock // Config.SendInterval
	loop    loopClock // the loop's lateness, discounted from RTTs

	rec    *recorder
	closed bool

	pred *predict.Hook // predicting mode (sync/rollback), or nil

	// Rejoin (rejoin.go).
	joining    bool      // Config.Join and not admitted yet
	joinedAt   Frame     // the frame this session entered at (0: the start)
	joinSent   time.Time // last join request
	ctlBuf     []byte
	rebind     map[int]transport.PeerID // Rebind calls waiting for their seat to drop (rejoin.go)
	admit      admission                // the admission this peer coordinates or accepted, while gated
	acked      [MaxSeats]ackRec         // each seat's last acknowledgement
	proved     [MaxSeats]bool           // a proof that this coordinator lied went out (sign.go)
	voidR      [MaxSeats][]Frame        // the Rs a proven liar signed for the seat's current admission (sign.go)
	cantSign   bool                     // this coordinator's Signer failed (or signed too long): logged once (rejoin.go)
	byeSeq     [MaxSeats]uint16         // the last Frame number before a seat's goodbye (receive.go unleave)
	words      [MaxSeats]word           // a joiner's: what each seat said of its admission
	joinStart  time.Time                // a joiner's first join request
	failedAt   [MaxSeats]Frame          // the coordinator's backoff: R of a seat's last failed admission
	fails      [MaxSeats]int            // its consecutive failed admissions
	retryAt    [MaxSeats]time.Time      // no admission of it before
	gapFrom    [MaxSeats]Frame          // a readmitted seat's inputs are dropped in [gapFrom, joinedFrom)
	joinedFrom [MaxSeats]Frame
}

// seat is what this peer knows about one seat.
type seat struct {
	id   transport.PeerID
	ring []byte // rcap inputs: frame f at f mod rcap
	hold Frame  // every input up to hold is held (-1: none)

	// The seat's own reports: acks max-merged (reordering cannot
	// regress them), masks from its newest datagram.
	acks        [MaxSeats]Frame // acks[t]: the seat holds t's inputs up to acks[t]
	lostView    uint16          // seats it considers lost
	suspectView uint16          // seats it votes out

	why        string    // why this peer suspects the seat
	blockSince time.Time // since when it blocks the next frame
	waitSince  time.Time // since when the next frame waits for it
	refusedAt  time.Time // last EventRefused about it
	conflictAt time.Time // last acknowledgement of another R than this peer's admission (rejoin.go)
	noticeAt   time.Time // last dropped notice sent to it
	droppedAt  Frame     // the drop frame it told this peer (NoFrame: none)

	lastHeard time.Time
	heard     bool

	// Replay filter on its Frame datagrams: highest sequence number seen
	// (serial arithmetic) and a bitmap of the 64 below it.
	maxSeq  uint16
	seqMask uint64
	anySeq  bool
	// loss estimates the fraction of its Frame datagrams lost on the way
	// here, from sequence gaps (a gap counts as a loss until the overtaken
	// datagram arrives): the mean of the last lossN outcomes at first,
	// then an exponential average over lossWindow datagrams.
	loss  float64
	lossN int

	// RTT: its last ping, to echo in our next Frame, and our estimate.
	echoDue  bool
	echoSeq  uint16
	echoAt   time.Time
	rtt      rttStats
	frame    Frame // its next frame, as last reported
	own      Frame // its newest own input, as last reported (predicting mode)
	frameAt  time.Time
	hasFrame bool

	// Remote checksums not yet compared, by frame.
	sums         [checksumRing]sumEntry
	lastCompared Frame
}

type sumEntry struct {
	frame Frame
	sum   uint64
	ok    bool
}

// pingSent is a ping this peer sent: the Frame datagram's seq and clock.
type pingSent struct {
	seq uint16
	at  uint32 // micros
	ok  bool
}

const (
	checksumRing = 32
	minRing      = 256
	// pingEvery: every pingEvery-th Frame datagram is a ping (the others
	// carry no timing data), so each link gets an RTT sample every
	// pingEvery ticks (15 a second at 60 Hz). Until every link has
	// minSamples samples, every datagram is a ping: the adaptive delay
	// waits for them, stalling meanwhile if the starting delay is short.
	pingEvery = 4
	// pingRing remembers the send times of the pings among the last
	// pingRing Frame datagrams (about 4 s at 60 Hz): echoes of older ones
	// give no sample.
	pingRing = 256
	// checksumSends is how many consecutive Frame datagrams carry each
	// checksum, so that a lost datagram rarely costs a comparison.
	checksumSends = 3
	// checksumSendsSparse is checksumSends with a SendInterval: 2
	// datagrams are 2 intervals (400 ms at 200 ms), and 3 would put more
	// than one checksum in every datagram at the default interval of 30
	// frames.
	checksumSendsSparse = 2
	// lossWindow is the weight, in datagrams, of the loss average.
	lossWindow = 256
	// noticeEvery spaces the dropped notices sent to a dropped seat that
	// keeps sending.
	noticeEvery = 100 * time.Millisecond
	// byeCopies: Close sends its goodbye this many times (datagrams get
	// lost, and a lost goodbye costs the others a disconnect timeout).
	byeCopies = 3
)

// NewSession starts a lockstep session for the local peer of conn. conn
// should be an unreliable channel (SCTP unordered, maxRetransmits 0) used
// by nothing else; the session does not close it.
//
// I is the game's input: any type encoding/binary encodes as a fixed
// number of bytes (integers, bools, floats, arrays and structs of those,
// exported fields), at most MaxInputSize bytes; otherwise ErrInputType.
func NewSession[I any](conn transport.Conn, cfg Config) (*Session[I], error) {
	if conn == nil {
		return nil, fmt.Errorf("%w: nil conn", ErrInvalidConfig)
	}
	isize, err := inputSize[I]()
	if err != nil {
		return nil, err
	}
	st, err := cfg.normalize(conn.Local(), isize)
	if err != nil {
		return nil, err
	}
	if st.Signer == nil && !st.Unsigned && st.Control != nil {
		st.Signer = connSigner(st.Seats, conn, st.Control)
	}
	n := len(st.Seats)
	rcap := minRing
	for rcap < 4*st.window+2*st.MaxInputDelay {
		rcap *= 2
	}
	s := &Session[I]{
		conn:     conn,
		cfg:      st,
		n:        n,
		isize:    isize,
		rcap:     Frame(rcap),
		all:      uint32(1)<<n - 1,
		start:    st.Now(),
		seats:    make([]seat, n),
		delay:    st.InputDelay,
		enc:      wire.NewEncoder(),
		game:     wire.GameTag(st.GameID),
		print:    matchPrint(st.Seed, st.Settings),
		scratch:  make([]byte, max(st.window, st.relay)*isize),
		steps:    make([]Step[I], 0, st.CatchUp),
		stepIn:   make([]I, st.CatchUp*n),
		statusIn: make([]InputStatus, st.CatchUp*n),
		waitSeat: -1,
	}
	s.events.Grow(maxEvents)
	s.lastNow = s.start
	s.sendClk.every = sendTicks(st.SendInterval, st.tick)
	for t := range s.seats {
		sd := &s.seats[t]
		sd.id = st.Seats[t]
		if sd.id == conn.Local() {
			s.me = t
		}
		sd.ring = make([]byte, rcap*isize)
		sd.hold = NoFrame
		sd.lastHeard = s.start
		sd.blockSince, sd.waitSince = s.start, s.start
		sd.droppedAt = NoFrame
		sd.lastCompared = NoFrame
		for u := range sd.acks {
			sd.acks[u] = NoFrame
		}
	}
	for t := range s.dropFrame {
		s.dropFrame[t] = NoFrame
	}
	// Frames 0..delay-1 carry the zero input: the delay's head start. They
	// are ordinary inputs, sent like any other, so peers need not agree on
	// the delay.
	s.seats[s.me].hold = Frame(s.delay) - 1
	s.joining = st.Join
	for _, id := range st.Reserved {
		if t := s.seatOf(id); t != s.me {
			s.dropped |= 1 << t
			s.lost |= 1 << t
			s.seats[t].hold = NoFrame
			// dropFrame stays NoFrame: zero input from frame 0 on.
		}
	}
	if st.Record != nil {
		if s.rec, err = newRecorder(st.Record, s.header(), st.Join); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// inputSize returns the encoded size of I, after checking that a value
// survives an encode/decode round trip (binary.Size accepts structs with
// unexported fields, which Decode cannot set).
func inputSize[I any]() (n int, err error) {
	var v I
	n = binary.Size(&v)
	if n <= 0 {
		return 0, fmt.Errorf("%w: %T", ErrInputType, v)
	}
	if n > MaxInputSize {
		return 0, fmt.Errorf("%w: %T is %d bytes, at most %d", ErrInputType, v, n, MaxInputSize)
	}
	defer func() {
		if r := recover(); r != nil {
			n, err = 0, fmt.Errorf("%w: %T: %v", ErrInputType, v, r)
		}
	}()
	buf := make([]byte, n)
	if _, err := binary.Encode(buf, binary.LittleEndian, &v); err != nil {
		return 0, fmt.Errorf("%w: %T: %v", ErrInputType, v, err)
	}
	if _, err := binary.Decode(buf, binary.LittleEndian, &v); err != nil {
		return 0, fmt.Errorf("%w: %T: %v", ErrInputType, v, err)
	}
	return n, nil
}

// LocalSeat returns this peer's seat: its index in Config.Seats.
func (s *Session[I]) LocalSeat() int { return s.me }

// Seats returns the seated peers in seat order (a copy).
func (s *Session[I]) Seats() []transport.PeerID {
	out := make([]transport.PeerID, s.n)
	for t := range s.seats {
		out[t] = s.seats[t].id
	}
	return out
}

// Advance is called once per game tick with the local player's input. It
// reads every datagram that has arrived, sends this peer's datagram, and
// returns the frames now ready, oldest first (at most Config.CatchUp, by
// default one), each with every seat's input. An empty slice is a stall
// (some seat's input is late), not an error: call Advance again next tick.
//
// The local input is used only when the session has a frame for it, which
// is exactly when Advance returns steps (at a constant delay): on a stall
// it is discarded (Stats.InputsUnused). A game with one-shot inputs
// (a button press) should keep them pending until a call returns steps.
// While the adaptive delay rises, the input fills several frames; while
// it falls, some inputs are discarded although steps are returned.
//
// The returned slice, and each Step's Inputs, are reused: valid until the
// next Advance. Errors say only that the call cannot proceed: ErrClosed;
// *DroppedError (errors.Is ErrDropped) and *CutOffError (errors.Is
// ErrCutOff): the match is over for this peer, and every later Advance
// returns the same error. A desync is not an error of Advance (the session
// goes on): it is delivered once, as EventDesync (CONTRIBUTING.md, "Each
// fact once"); the deprecated Config.DesyncErrors also returns it here.
func (s *Session[I]) Advance(local I) ([]Step[I], error) {
	if s.closed {
		return nil, ErrClosed
	}
	now := s.cfg.Now()
	if gap := now.Sub(s.lastNow); gap > 2*s.cfg.tick {
		// The game loop paused (a hitch, a debugger, a slow frame): the
		// time this peer was away is not the others' silence.
		s.credit(gap - s.cfg.tick)
	}
	s.observeLoop(now)
	s.lastNow = now
	s.stats.Ticks++
	if s.joining {
		s.control(now)
		if s.joining {
			for range 64 * s.n { // not a member yet: nothing here is for us
				if _, ok := s.conn.TryRecv(); !ok {
					break
				}
			}
		} else {
			// Admitted this tick: no step yet, so that the game, which
			// learns R from JoinFrame now, reaches R's state (and gives
			// RecordStart) before the step of R; the head start goes out.
			s.send(now)
		}
		s.countStall(0)
		return nil, nil
	}
	if s.excluded != nil {
		s.countStall(0)
		return nil, s.excluded
	}
	s.receive(now)
	s.control(now)
	if s.excluded == nil {
		s.checkLoss(now)
	}
	if s.excluded != nil {
		s.countStall(0)
		return nil, s.excluded
	}
	s.waiting(now)
	s.adaptDelay(now)
	if s.cutOff {
		// Not hearing a majority: stop, never play on alone.
		s.stats.InputsUnused++
		s.send(now)
		s.countStall(0)
		return nil, nil
	}
	if err := s.errQueue; err != nil {
		s.errQueue = nil
		s.stats.InputsUnused++
		s.send(now)
		s.countStall(0)
		return nil, err
	}
	steps := s.emit()
	s.tmp = local
	if s.pred == nil {
		s.stamp()
		s.send(now)
		s.timeSync(now)
		s.countStall(len(steps))
		return steps, nil
	}
	ran := 0
	if s.predictRun() {
		s.stamp()
		ran = 1
	} else {
		s.stats.InputsUnused++
	}
	s.send(now)
	s.timeSyncPredict(now)
	s.countStall(ran)
	return steps, nil
}

func (s *Session[I]) countStall(n int) {
	if n > 0 {
		s.stall = 0
		return
	}
	s.stats.Stalls++
	s.stall++
	s.stats.LongestStall = max(s.stats.LongestStall, s.stall)
}

// slot returns the ring bytes of seat t's input for frame f.
func (s *Session[I]) slot(t int, f Frame) []byte {
	i := int(f&(s.rcap-1)) * s.isize
	return s.seats[t].ring[i : i+s.isize]
}

// survivor reports whether seat t is a remote seat still in the game.
func (s *Session[I]) survivor(t int) bool {
	return t != s.me && s.lost&(1<<t) == 0
}

// floor returns the oldest frame of seat t's inputs this peer must keep:
// frames not yet run here, and frames some survivor has not acknowledged
// (it may need them relayed if t is lost).
func (s *Session[I]) floor(t int) Frame {
	f := s.next
	for v := range s.seats {
		if v != t && s.survivor(v) {
			f = min(f, s.seats[v].acks[t]+1)
		}
	}
	return f
}

// minAck returns the oldest local frame some survivor still lacks, minus
// one; with no survivor, everything counts as acknowledged.
func (s *Session[I]) minAck() Frame {
	a := s.seats[s.me].hold
	for v := range s.seats {
		if s.survivor(v) {
			a = min(a, s.seats[v].acks[s.me])
		}
	}
	return a
}

// emit collects the ready frames.
func (s *Session[I]) emit() []Step[I] {
	steps := s.steps[:0]
	for len(steps) < cap(steps) {
		f := s.next
		for t := range s.seats {
			if s.seats[t].hold < f && !(s.dropped&(1<<t) != 0 && f > s.dropFrame[t]) {
				return steps
			}
		}
		k := len(steps)
		inputs := s.stepIn[k*s.n : (k+1)*s.n]
		status := s.statusIn[k*s.n : (k+1)*s.n]
		for t := range s.seats {
			if s.seats[t].hold < f || s.inGap(t, f) {
				inputs[t] = s.zero
				status[t] = InputDropped
				continue
			}
			status[t] = InputConfirmed
			if (s.lost|s.suspect)&(1<<t) != 0 {
				status[t] = InputDisconnecting
			}
			// Cannot fail: the slot has exactly binary.Size(I) bytes and
			// I round-tripped in NewSession.
			_, _ = binary.Decode(s.slot(t, f), binary.LittleEndian, &inputs[t])
		}
		steps = append(steps, Step[I]{Frame: f, Inputs: inputs, Status: status})
		if s.rec != nil {
			s.recordStep(f)
		}
		s.next++
	}
	return steps
}

// stamp writes the local input (s.tmp) into every frame up to
// next+delay-1 not yet filled: none on a stall or while the delay falls,
// one normally, several while the delay rises. Frames are never skipped
// nor written twice, so all peers see one input per frame.
func (s *Session[I]) stamp() {
	me := &s.seats[s.me]
	target := min(s.next+Frame(s.delay)-1, s.gateFrame())
	if s.pred != nil {
		target = min(Frame(s.pred.Head)+Frame(s.delay), s.gateFrame())
	}
	var first []byte
	for me.hold < target {
		f := me.hold + 1
		if int(f-s.minAck()) > s.cfg.window {
			s.stats.WindowFull++
			break
		}
		dst := s.slot(s.me, f)
		if first == nil {
			_, _ = binary.Encode(dst, binary.LittleEndian, &s.tmp)
			first = dst
		} else {
			copy(dst, first)
		}
		me.hold = f
	}
	if first == nil {
		s.stats.InputsUnused++
	}
}

// Close sends a goodbye to the other seats (so they drop this seat without
// waiting for DisconnectTimeout) and flushes the replay log, returning its
// error. Close is idempotent; it does not close the Conn.
func (s *Session[I]) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.lost|1<<s.me != s.all && s.excluded == nil {
		p := &s.out
		for range byeCopies {
			*p = wire.Packet{Kind: wire.KindBye, Game: s.game, Seat: uint8(s.me),
				InputSize: uint8(s.isize), Seq: s.seq - 1, Frame: int32(s.next)}
			s.transmit(p, -1)
		}
	}
	if s.rec != nil {
		return s.rec.close()
	}
	return nil
}
