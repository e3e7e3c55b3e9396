package rollback

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/internal/predict"
	"github.com/peerplay/peerplay/sync/lockstep"
)

const (
	// DefaultMaxPrediction is Config.MaxPrediction's default, as GGRS's.
	DefaultMaxPrediction = 8
	// MaxMaxPrediction bounds Config.MaxPrediction.
	MaxMaxPrediction = 16
	// MaxInputDelay bounds Config.InputDelay.
	MaxInputDelay = 2
)

// Config configures a rollback Session.
type Config struct {
	// Lockstep configures the shared engine exactly as for a lockstep
	// session (Seats, Seed, GameID, TickRate, ChecksumInterval,
	// timeouts, Record, Logger, Now, ...), with the same zero defaults.
	// Its InputDelay, Adaptive and CatchUp are ignored: rollback sets
	// them.
	Lockstep lockstep.Config
	// InputDelay is the local input delay in frames, 0..MaxInputDelay:
	// an input given to Advance applies to the frame InputDelay frames
	// after the one simulated at that tick. 0 means none (every remote
	// input is predicted for at least half an RTT).
	InputDelay int
	// MaxPrediction is how many frames the session simulates ahead of
	// the last frame whose inputs are all confirmed; beyond it, it stalls
	// like lockstep. 0 means DefaultMaxPrediction (8); at most
	// MaxMaxPrediction.
	MaxPrediction int
}

// Predictor predicts seat's input for frame from the newest input held
// from that seat (last; the zero value if none). It must not keep last.
type Predictor[I any] func(seat int, last I, frame lockstep.Frame) I

// RequestKind says what a Request asks of the game.
type RequestKind uint8

const (
	_ RequestKind = iota
	// Save: copy the game state (as it is before simulating Frame) into
	// state buffer Slot.
	Save
	// Load: restore the game state from state buffer Slot (saved before
	// Frame was simulated).
	Load
	// Advance: simulate Frame with Inputs, then report the checksum
	// (Session.ReportChecksum).
	Advance
)

// String returns "save", "load" or "advance".
func (k RequestKind) String() string {
	switch k {
	case Save:
		return "save"
	case Load:
		return "load"
	case Advance:
		return "advance"
	}
	return "unknown"
}

// Request is one thing the game must do, in order.
type Request[I any] struct {
	Kind  RequestKind
	Frame lockstep.Frame
	// Slot is the state buffer of a Save or Load, in [0, Slots()).
	Slot int
	// Inputs (Advance) holds every seat's input, indexed by seat; Status
	// says per seat whether it is confirmed, predicted
	// (lockstep.InputPredicted), disconnecting or dropped. Both are
	// reused: valid until the next Advance.
	Inputs []I
	Status []lockstep.InputStatus
	// Confirmed (Advance): every input of this frame and of every frame
	// before it is final, so the state after it is the match's (never
	// rolled back): a game plays sounds or counts scores safely here.
	Confirmed bool
}

// Stats is a snapshot of the session's counters.
type Stats struct {
	// Stats is the shared engine's. Its Frame is the next confirmed
	// frame; its Stalls count the ticks that simulated no new frame.
	lockstep.Stats
	Head            lockstep.Frame // the next frame to simulate
	Rollbacks       uint64         // Advance calls that loaded a state
	Resimulated     uint64         // frames simulated again after a Load
	LongestRollback int            // the most frames one rollback re-simulated
	Predicted       uint64         // seat inputs predicted
}

// Session is a rollback (GGPO/GGRS-style) session for one peer: it
// predicts late remote inputs and asks the game to roll back and
// re-simulate when a prediction was wrong. It runs the lockstep engine,
// so the wire, acks, checksums, player loss, time sync and replays are
// lockstep's. It starts no goroutines and is not safe for concurrent
// use: the game loop drives it.
type Session[I any] struct {
	eng  *lockstep.Session[I]
	hook *predict.Hook

	n, isize int
	ring     lockstep.Frame // state slots: MaxPrediction+2
	head     lockstep.Frame // next frame to simulate
	conf     lockstep.Frame // next frame to confirm

	used    []byte // ring of the inputs each frame was simulated with, raw
	usedOut []bool // ring: the seat was dropped (InputDropped) when the frame was simulated
	sums    []sumEntry
	zeroRaw []byte
	predBuf I

	reqs   []Request[I]
	inputs []I
	status []lockstep.InputStatus
	nadv   int
	// Confirmed steps for Steps: the engine's, copied into a ring of
	// stepCap frames until the head passes them.
	stepRing []lockstep.Step[I]
	rel      lockstep.Frame     // the next confirmed frame Steps releases
	stepEnd  lockstep.Frame     // the next frame the ring expects
	steps    []lockstep.Step[I] // released by the last Advance (views into stepRing)
	joined   bool               // a Config.Lockstep.Join session that entered the match
	predict  Predictor[I]
	stats    Stats
	closed   bool
}

type sumEntry struct {
	frame lockstep.Frame
	sum   uint64
	ok    bool // the game reported sum for frame's latest simulation
	final bool // that simulation is the match's (confirmed)
}

// NewSession starts a rollback session for the local peer of conn (as
// lockstep.NewSession: an unreliable channel used by nothing else).
func NewSession[I any](conn transport.Conn, cfg Config) (*Session[I], error) {
	if cfg.InputDelay < 0 || cfg.InputDelay > MaxInputDelay {
		return nil, fmt.Errorf("%w: InputDelay %d outside [0, %d]", ErrInvalidConfig, cfg.InputDelay, MaxInputDelay)
	}
	mp := cfg.MaxPrediction
	if mp == 0 {
		mp = DefaultMaxPrediction
	}
	if mp < 1 || mp > MaxMaxPrediction {
		return nil, fmt.Errorf("%w: MaxPrediction %d outside [1, %d]", ErrInvalidConfig, mp, MaxMaxPrediction)
	}
	lc := cfg.Lockstep
	lc.Adaptive = lockstep.AdaptiveDelay{}
	// The engine's delay is set by predict.Attach; this one only reaches
	// the replay header (where 0, "the default", cannot be said: 1).
	lc.InputDelay = max(1, cfg.InputDelay)
	// Every newly confirmed frame in one Advance: up to the local head
	// plus its delay.
	lc.CatchUp = mp + cfg.InputDelay + 1
	lc.MaxInputDelay = max(lc.MaxInputDelay, lc.CatchUp-1)
	eng, err := lockstep.NewSession[I](conn, lc)
	if err != nil {
		return nil, err
	}
	hook := predict.Attach(eng, cfg.InputDelay, mp)
	if hook == nil {
		_ = eng.Close()
		return nil, fmt.Errorf("%w: engine refused predicting mode", ErrInvalidConfig)
	}
	n := len(lc.Seats)
	isize := binary.Size(new(I))
	ring := mp + 2
	s := &Session[I]{
		eng:     eng,
		hook:    hook,
		n:       n,
		isize:   isize,
		ring:    lockstep.Frame(ring),
		used:    make([]byte, ring*n*isize),
		usedOut: make([]bool, ring*n),
		sums:    make([]sumEntry, ring),
		zeroRaw: make([]byte, isize),
		reqs:    make([]Request[I], 0, 2*ring+2),
		inputs:  make([]I, ring*n),
		status:  make([]lockstep.InputStatus, ring*n),
	}
	// The steps released by one Advance and those it adds span at most
	// two Advances' worth of confirmed frames plus the delay.
	stepCap := 2*lc.CatchUp + MaxInputDelay + 4
	s.stepRing = make([]lockstep.Step[I], stepCap)
	s.steps = make([]lockstep.Step[I], 0, stepCap)
	for i := range s.stepRing {
		s.stepRing[i].Inputs = make([]I, n)
		s.stepRing[i].Status = make([]lockstep.InputStatus, n)
	}
	var zero I
	_, _ = binary.Encode(s.zeroRaw, binary.LittleEndian, &zero)
	for i := range s.sums {
		s.sums[i].frame = lockstep.NoFrame
	}
	return s, nil
}

// SetPredictor replaces the default prediction (repeat the seat's newest
// input) with p; nil restores the default.
func (s *Session[I]) SetPredictor(p Predictor[I]) { s.predict = p }

// JoinFrame is lockstep's JoinFrame: for a session started with
// Config.Lockstep.Join, the frame R it entered the running match at
// (NoFrame while waiting for admission); 0 for a session that started
// with the match. The game's state must be the match's state of frame R
// (after R-1, e.g. restored from a Streamer's snapshot through a
// Spectator) before it carries out the requests of the next Advance,
// which start at R.
func (s *Session[I]) JoinFrame() lockstep.Frame { return s.eng.JoinFrame() }

// Rebind is lockstep's Rebind: a newcomer with another peer ID takes an
// empty or dropped seat (lobby.EventSeated).
func (s *Session[I]) Rebind(seat int, id transport.PeerID) error { return s.eng.Rebind(seat, id) }

// RecordStart is lockstep's RecordStart: a joiner's replay log (format
// version 3) starts at its JoinFrame R with the game's state of frame R;
// call it once caught up, before the next Advance.
func (s *Session[I]) RecordStart(state []byte) error { return s.eng.RecordStart(state) }

// Steps returns the confirmed frames that the last Advance made final in
// the game: confirmed, and simulated (below Head) with their final
// inputs once its requests are carried out; each frame once, in order,
// with every seat's input and status as lockstep's Steps give them. It
// is what a lockstep.Streamer takes (Step), so that spectators and
// joiners can follow a rollback match. The slice and its Inputs are
// reused: valid until the next Advance.
func (s *Session[I]) Steps() []lockstep.Step[I] { return s.steps }

// ConfirmedState says where the game holds the state after the last
// frame Steps returned (what a Streamer's Snapshot wants after those
// steps), once this tick's requests are carried out: the game's current
// state when current, else state buffer slot (saved before that frame's
// successor was simulated).
func (s *Session[I]) ConfirmedState() (slot int, current bool) {
	if s.rel == s.head {
		return 0, true
	}
	return s.slot(s.rel), false
}

// Slots returns the number of state buffers the game keeps
// (MaxPrediction+2); Save and Load name one by index.
func (s *Session[I]) Slots() int { return int(s.ring) }

// LocalSeat returns this peer's seat.
func (s *Session[I]) LocalSeat() int { return s.eng.LocalSeat() }

// Seats returns the seated peers in seat order (a copy).
func (s *Session[I]) Seats() []transport.PeerID { return s.eng.Seats() }

// Confirmed returns the next frame to confirm: every frame before it has
// every seat's final input, and the game's state after it (once
// re-simulated as asked) is the same on every peer.
func (s *Session[I]) Confirmed() lockstep.Frame { return s.conf }

// Head returns the next frame the session will ask the game to simulate.
func (s *Session[I]) Head() lockstep.Frame { return s.head }

// PollEvents returns the engine's events (lockstep.PollEvents).
func (s *Session[I]) PollEvents() []lockstep.Event { return s.eng.PollEvents() }

// Waiting is lockstep's Waiting: the seat the next confirmed frame has
// waited for the longest, and for how long.
func (s *Session[I]) Waiting() (seat int, d time.Duration) { return s.eng.Waiting() }

// SlowDown is lockstep's SlowDown, from the seats' heads: how many ticks
// to skip so that a peer running ahead lets the others catch up (which
// keeps rollbacks short on asymmetric links).
func (s *Session[I]) SlowDown() int { return s.eng.SlowDown() }

// Stats returns the session's counters.
func (s *Session[I]) Stats() Stats {
	st := s.stats
	st.Stats = s.eng.Stats()
	st.Head = s.head
	return st
}

// Close sends the goodbye and flushes the replay (lockstep's Close).
func (s *Session[I]) Close() error {
	s.closed = true
	return s.eng.Close()
}

// Advance is called once per game tick with the local input. It returns
// what the game must do, in order: at most one Load (a rollback: a
// confirmed input differed from its prediction) followed by the frames to
// re-simulate, then this tick's frame, each Advance preceded by a Save
// while it may be rolled back. An empty list is a stall (the head is
// MaxPrediction frames past the last confirmed frame, or the engine is
// cut off): call Advance again next tick; the local input was not used.
// The list is reused: valid until the next Advance.
//
// Errors are lockstep's: ErrClosed; *lockstep.DroppedError and
// *lockstep.CutOffError end the match. A mismatch of confirmed frames'
// checksums is lockstep.EventDesync (PollEvents), not an error (the
// deprecated lockstep.Config.DesyncErrors also returns it here).
func (s *Session[I]) Advance(local I) ([]Request[I], error) {
	if s.closed {
		return nil, lockstep.ErrClosed
	}
	s.reqs, s.nadv, s.steps = s.reqs[:0], 0, s.steps[:0]
	s.hook.Head = int32(s.head)
	steps, err := s.eng.Advance(local)
	if err != nil {
		return nil, err
	}
	entered := false
	if r := s.eng.JoinFrame(); r == lockstep.NoFrame {
		return s.reqs, nil // joining a running match: not admitted yet
	} else if r > 0 && !s.joined {
		// Admitted at R this tick (see "Rejoin" in the package doc): the
		// game's state must be the match's state of frame R before it
		// simulates; nothing before R is simulated here.
		s.joined, entered = true, true
		s.head, s.conf, s.rel, s.stepEnd = r, r, r, r
	}
	for _, st := range steps {
		if st.Frame == s.stepEnd {
			d := &s.stepRing[int(st.Frame)%len(s.stepRing)]
			d.Frame = st.Frame
			copy(d.Inputs, st.Inputs)
			copy(d.Status, st.Status)
			s.stepEnd++
		}
	}
	old := s.conf
	if len(steps) > 0 {
		s.conf = steps[len(steps)-1].Frame + 1
	}
	// The first frame simulated with an input that is now known to differ
	// (an input arrived, or a seat was dropped): roll back to it as soon
	// as one seat's input is in, not only once the frame is confirmed.
	bad := lockstep.NoFrame
	for f := old; f < s.head; f++ {
		if s.mispredicted(f) {
			bad = f
			break
		}
	}
	for f := old; f < min(s.conf, s.head) && (bad == lockstep.NoFrame || f < bad); f++ {
		s.confirmSum(f)
	}
	if bad != lockstep.NoFrame {
		s.reqs = append(s.reqs, Request[I]{Kind: Load, Frame: bad, Slot: s.slot(bad)})
		s.stats.Rollbacks++
		s.stats.LongestRollback = max(s.stats.LongestRollback, int(s.head-bad))
		for f := bad; f < s.head; f++ {
			if f != bad {
				s.save(f)
			}
			s.advance(f)
			s.stats.Resimulated++
		}
	}
	if s.hook.Run && !entered { // entering, the engine stamped nothing for the head yet
		s.save(s.head)
		s.advance(s.head)
		s.head++
	}
	for ; s.rel < min(s.stepEnd, s.head); s.rel++ {
		s.steps = append(s.steps, s.stepRing[int(s.rel)%len(s.stepRing)])
	}
	return s.reqs, nil
}

func (s *Session[I]) slot(f lockstep.Frame) int { return int(f % s.ring) }

// usedAt returns the ring of raw inputs frame f was simulated with.
func (s *Session[I]) usedAt(f lockstep.Frame) []byte {
	k := s.slot(f) * s.n * s.isize
	return s.used[k : k+s.n*s.isize]
}

// save asks for frame f's state while f may still be rolled back to.
func (s *Session[I]) save(f lockstep.Frame) {
	if f >= s.conf {
		s.reqs = append(s.reqs, Request[I]{Kind: Save, Frame: f, Slot: s.slot(f)})
	}
}

// advance asks to simulate frame f with the best inputs held.
func (s *Session[I]) advance(f lockstep.Frame) {
	k := s.nadv
	s.nadv++
	inputs := s.inputs[k*s.n : (k+1)*s.n]
	status := s.status[k*s.n : (k+1)*s.n]
	used := s.usedAt(f)
	for t := range s.n {
		dst := used[t*s.isize : (t+1)*s.isize]
		st := lockstep.InputStatus(s.hook.Status(t, int32(f)))
		switch st {
		case lockstep.InputDropped:
			copy(dst, s.zeroRaw)
		case lockstep.InputPredicted:
			s.predictInput(t, f, dst)
			s.stats.Predicted++
		default:
			copy(dst, s.hook.Raw(t, int32(f)))
		}
		// Cannot fail: dst has binary.Size(I) bytes, and I round-tripped
		// in lockstep.NewSession.
		_, _ = binary.Decode(dst, binary.LittleEndian, &inputs[t])
		status[t] = st
		s.usedOut[s.slot(f)*s.n+t] = st == lockstep.InputDropped
	}
	final := f < s.conf
	s.sums[s.slot(f)] = sumEntry{frame: f, final: final}
	s.reqs = append(s.reqs, Request[I]{Kind: Advance, Frame: f, Slot: s.slot(f),
		Inputs: inputs, Status: status, Confirmed: final})
}

// predictInput writes seat t's predicted input for frame f into dst.
func (s *Session[I]) predictInput(t int, f lockstep.Frame, dst []byte) {
	last := s.zeroRaw
	if h := s.hook.Held(t); h >= 0 {
		last = s.hook.Raw(t, h)
	}
	if s.predict == nil {
		copy(dst, last)
		return
	}
	_, _ = binary.Decode(last, binary.LittleEndian, &s.predBuf)
	s.predBuf = s.predict(t, s.predBuf, f)
	_, _ = binary.Encode(dst, binary.LittleEndian, &s.predBuf)
}

// mispredicted reports whether frame f was simulated with an input that
// differs from one now held (or from a drop's zero value), or with the
// seat dropped when it is not any more, or the reverse (a game may step a
// dropped seat differently, e.g. an idle paddle, even when its input
// bytes are the same zero: a seat readmitted at R whose head start is
// zero).
func (s *Session[I]) mispredicted(f lockstep.Frame) bool {
	used := s.usedAt(f)
	for t := range s.n {
		var want []byte
		st := lockstep.InputStatus(s.hook.Status(t, int32(f)))
		if (st == lockstep.InputDropped) != s.usedOut[s.slot(f)*s.n+t] {
			return true
		}
		switch st {
		case lockstep.InputPredicted:
			continue
		case lockstep.InputDropped:
			want = s.zeroRaw
		default:
			want = s.hook.Raw(t, int32(f))
		}
		if !bytes.Equal(used[t*s.isize:(t+1)*s.isize], want) {
			return true
		}
	}
	return false
}

// confirmSum: frame f is confirmed and its latest simulation was right;
// its checksum, reported when it was still a prediction, is the match's.
func (s *Session[I]) confirmSum(f lockstep.Frame) {
	e := &s.sums[s.slot(f)]
	if e.frame != f || e.final {
		return
	}
	e.final = true
	if e.ok {
		s.eng.ReportChecksum(f, e.sum)
	}
}

// ReportChecksum gives the game's state checksum after simulating frame
// (after each Advance request, before the next call of Advance). Only
// confirmed states are compared between peers (lockstep's
// ReportChecksum, same ChecksumInterval): a prediction's checksum is kept
// until its frame is confirmed as predicted, or dropped when the frame is
// re-simulated.
func (s *Session[I]) ReportChecksum(frame lockstep.Frame, sum uint64) {
	if frame < 0 {
		return
	}
	e := &s.sums[s.slot(frame)]
	if e.frame != frame {
		return
	}
	e.sum, e.ok = sum, true
	if e.final {
		s.eng.ReportChecksum(frame, sum)
	}
}
