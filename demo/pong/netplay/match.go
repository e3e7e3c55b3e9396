package netplay

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/peerplay/peerplay/demo/pong/play"
	"github.com/peerplay/peerplay/demo/pong/sim"
	"github.com/peerplay/peerplay/netcode"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

type netIP = net.IP

// Match is a networked pong match in lockstep. Only the game loop calls it.
type Match struct {
	sess  engine                       // lockstep's or rollback's (rbEngine)
	ls    *lockstep.Session[sim.Input] // lockstep mode
	rb    *rbMatch                     // rollback mode (-rollback)
	room  *Room
	s     sim.State
	final *sim.State // the state when the match ended
	err   error
	seats []transport.PeerID
	seed  uint64
	// gameID is the lockstep GameID (MatchGameID).
	gameID uint64

	// Streaming (watch.go): str streams a player's match to watchers and
	// to a player catching up (nil in rollback mode); sp is a watcher's
	// stream, or a rejoining player's until it caught up (then nil).
	str      *lockstep.Streamer[sim.Input]
	sp       *lockstep.Spectator[sim.Input]
	finished bool // str.Finish was called
	// pending are steps lockstep returned while this seat was still
	// catching up (catchUp); Tick applies them first.
	pending []lockstep.Step[sim.Input]

	retired bool // the room went back to the lobby: Tick does nothing
	stalled int  // consecutive Ticks that ran no frame
	skip    int  // ticks to skip, from lockstep's SlowDown

	waitingFor string // the player lockstep's EventWaiting named, until EventResumed

	ticks    int    // Tick calls
	maxDelay int    // the largest input delay sampled (once a second)
	warm     bool   // warmStalls is set
	warmAt   uint64 // lockstep's Stalls when the match had run warmFrames
}

// warmFrames is where Summary starts counting stalls: the first frames
// wait for the peer's session to start and for the adaptive delay's RTT
// samples.
const warmFrames = 120

// Summary is one line of the match's lockstep figures, for the terminal
// and the benchmarks: ticks, stalled ticks (all, and after the first
// warmFrames frames), the longest stall, the input delay now and its
// largest value sampled once a second after warm-up, and the RTT.
func (m *Match) Summary() string {
	st := m.sess.Stats()
	warm := uint64(0)
	if m.warm {
		warm = st.Stalls - m.warmAt
	}
	return fmt.Sprintf("lockstep ticks=%d frames=%d stalls=%d stalls_after_warmup=%d longest_stall=%d input_delay=%d max_input_delay=%d rtt=%.1fms",
		st.Ticks, st.Frame, st.Stalls, warm, st.LongestStall, st.InputDelay, max(m.maxDelay, st.InputDelay), float64(st.RTT.Microseconds())/1000) +
		m.rollbackSummary()
}

// sample updates the figures Summary reports.
func (m *Match) sample() {
	m.ticks++
	if !m.warm && m.s.Frame >= warmFrames {
		m.warm = true
		m.warmAt = m.sess.Stats().Stalls
	}
	if m.warm && m.ticks%60 == 0 {
		m.maxDelay = max(m.maxDelay, m.sess.Stats().InputDelay)
	}
}

// waitAfter is how many stalled ticks (a quarter of a second at 60 Hz)
// make the front say whom it waits for.
const waitAfter = 15

// retire ends the lockstep session of a finished match; State keeps
// returning the final state.
func (m *Match) retire() {
	if !m.retired {
		m.retired = true
		_ = m.sess.Close()
	}
}

// waiting names the seat whose inputs the match has waited for over
// waitAfter ticks, or "".
func (m *Match) waiting() string {
	if m.retired || m.s.Over() {
		return ""
	}
	if m.waitingFor != "" { // lockstep's EventWaiting names the seat
		return m.waitingFor
	}
	if m.stalled < waitAfter {
		return ""
	}
	st := m.sess.Stats()
	for _, s := range st.Seats {
		if !s.Local && !s.Dropped && s.Held < st.Frame {
			return m.room.name(s.Peer)
		}
	}
	return ""
}

// Names returns the players' names by seat.
func (m *Match) Names() [2]string {
	var out [2]string
	for i := range out {
		if i < len(m.seats) {
			out[i] = m.room.name(m.seats[i])
		}
	}
	return out
}

var _ play.Match = (*Match)(nil)

func newMatch(sess *lockstep.Session[sim.Input], cfg sim.Config, r *Room) *Match {
	return &Match{sess: sess, ls: sess, room: r, s: sim.New(cfg)}
}

// DesyncError is returned by Tick when the peers' checksums differ.
type DesyncError struct{ Err error }

func (e *DesyncError) Error() string { return e.Err.Error() }
func (e *DesyncError) Unwrap() error { return e.Err }

// Desync marks the error for the front.
func (e *DesyncError) Desync() bool { return true }

// Tick advances by every frame lockstep has ready (none while it stalls).
func (m *Match) Tick(local sim.Input) error {
	if m.err != nil {
		return m.err
	}
	if m.retired {
		return nil
	}
	if m.ls == nil && m.rb == nil && m.sp != nil {
		return m.tickWatch()
	}
	if m.sp != nil {
		done, err := m.catchUp(local)
		if err == nil && !done {
			m.stalled++
			m.sample()
			m.flushStream()
			return nil
		}
		if err != nil {
			return m.fail(err)
		}
	}
	if m.skip > 0 {
		// Ahead of the peer: wait a tick now rather than stall in a burst
		// later (lockstep's SlowDown hint).
		m.skip--
		return nil
	}
	var steps []lockstep.Step[sim.Input]
	var err error
	ran := false
	if m.rb != nil {
		ran, err = m.advanceRollback(local)
	} else {
		steps, err = m.ls.Advance(local)
		if m.pending != nil { // run by the Advance that admitted this seat (catchUp)
			steps, m.pending = append(m.pending, steps...), nil
		}
		ran = len(steps) > 0
	}
	m.skip = m.sess.SlowDown()
	defer m.sample()
	if !ran {
		m.stalled++
	} else {
		m.stalled = 0
	}
	for _, st := range steps {
		var in [2]sim.Input
		copy(in[:], st.Inputs)
		m.s.Step(in)
		sum := m.s.Checksum()
		m.sess.ReportChecksum(st.Frame, sum)
		if m.rb == nil {
			m.stream(st, sum)
		}
		if m.s.Over() && m.final == nil {
			f := m.s
			m.final = &f
		}
	}
	m.flushStream()
	return m.fail(err)
}

// fail turns an error of the session (or of catching up) and the
// session's events into the match's end, or nil to play on.
func (m *Match) fail(err error) error {
	var de *lockstep.DesyncError
	var ours *DesyncError
	var problem *play.Problem
	if errors.As(err, &ours) || errors.As(err, &problem) {
		m.err = err
		return err
	}
	if errors.As(err, &de) {
		m.err = &DesyncError{Err: fmt.Errorf("desync: %w", err)}
		return m.err
	}
	var cut *lockstep.CutOffError
	switch {
	case errors.As(err, &cut):
		var who []string
		for _, seat := range cut.Unheard {
			if seat >= 0 && seat < len(m.seats) {
				who = append(who, m.room.name(m.seats[seat]))
			}
		}
		m.err = &play.Problem{Say: fmt.Sprintf("lost %s: nothing heard for %v", strings.Join(who, " and "), 2*lockstep.DefaultDisconnectTimeout), Err: err}
		return m.err
	case errors.Is(err, lockstep.ErrDropped):
		m.err = &play.Problem{Say: "the match went on without you: your game was silent too long", Err: err}
		return m.err
	case err != nil:
		m.err = err
		return err
	}
	for _, ev := range m.sess.PollEvents() {
		switch ev.Kind {
		case lockstep.EventDesync:
			m.err = &DesyncError{Err: fmt.Errorf("desync at frame %d: %v", ev.Frame, ev.Err)}
			return m.err
		case lockstep.EventWaiting:
			m.waitingFor = m.room.name(ev.Peer)
		case lockstep.EventResumed:
			m.waitingFor = ""
		case lockstep.EventPlayerLost:
			// A player who quits says goodbye in the lobby too, which
			// ends the room (Room.Poll); one whose game died may come
			// back with the same identity (Rejoin in the package doc).
			if !m.over() && ev.Seat != m.Seat() {
				m.room.note("lost " + m.room.name(ev.Peer) + ": waiting for them to come back")
			}
		case lockstep.EventPlayerDropped:
			if !m.over() && ev.Seat != m.Seat() {
				m.room.note(m.room.name(ev.Peer) + "'s paddle stays idle until they are back")
			}
		case lockstep.EventRejoined:
			if ev.Seat != m.Seat() {
				m.room.note(m.room.name(ev.Peer) + " is back")
			}
		}
	}
	return nil
}

func (m *Match) over() bool {
	if m.rb != nil {
		return m.final != nil // a predicted end may be rolled back
	}
	return m.s.Over()
}

// State returns the current state.
func (m *Match) State() *sim.State { return &m.s }

// Final returns the state at the frame the match ended, or nil.
func (m *Match) Final() *sim.State { return m.final }

// Seat returns the local seat.
func (m *Match) Seat() int { return m.sess.LocalSeat() }

// Close ends the lockstep session.
func (m *Match) Close() error {
	m.retired = true
	return m.sess.Close()
}

// rateSample remembers byte counters to turn them into kbps.
type rateSample struct {
	at      time.Time
	in, out uint64
	kin     float64
	kout    float64
}

func (r *Room) rate(p netcode.PeerStats) (in, out float64) {
	if r.rates == nil {
		r.rates = map[transport.PeerID]*rateSample{}
	}
	now := time.Now()
	s := r.rates[p.Peer]
	if s == nil {
		r.rates[p.Peer] = &rateSample{at: now, in: p.BytesReceived, out: p.BytesSent}
		return 0, 0
	}
	if dt := now.Sub(s.at).Seconds(); dt >= 1 {
		s.kin = float64(p.BytesReceived-s.in) * 8 / 1000 / dt
		s.kout = float64(p.BytesSent-s.out) * 8 / 1000 / dt
		s.at, s.in, s.out = now, p.BytesReceived, p.BytesSent
	}
	return s.kin, s.kout
}

// loss is the fraction of peer's lockstep datagrams lost on the way here,
// as the session measures it from their sequence numbers (over about the
// last 4 s), or -1 (unknown) before the match or the peer's first
// datagram.
func (r *Room) loss(peer transport.PeerID, ls lockstep.Stats) float64 {
	for _, s := range ls.Seats {
		if s.Peer == peer && !s.Local && s.Heard {
			return s.Loss
		}
	}
	return -1
}
