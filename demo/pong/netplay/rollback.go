package netplay

import (
	"fmt"

	"github.com/peerplay/peerplay/demo/pong/sim"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/rollback"
)

// engine is what a Match reads of its session: lockstep's, or rollback's
// through rbEngine.
type engine interface {
	Stats() lockstep.Stats
	SlowDown() int
	PollEvents() []lockstep.Event
	LocalSeat() int
	ReportChecksum(lockstep.Frame, uint64)
	Close() error
}

// rbEngine adapts a rollback session to engine.
type rbEngine struct{ *rollback.Session[sim.Input] }

func (e rbEngine) Stats() lockstep.Stats { return e.Session.Stats().Stats }

// histRing holds the state after each recent frame (more than
// rollback.MaxMaxPrediction+2 frames).
const histRing = 32

// rbMatch is a Match's rollback part (-rollback): the state buffers the
// session names, and the state after each recent frame, to find the
// match's end among confirmed frames only (a predicted point may be
// rolled back).
type rbMatch struct {
	sess    *rollback.Session[sim.Input]
	slots   []sim.State
	hist    [histRing]sim.State
	checked lockstep.Frame
}

func newRollbackMatch(sess *rollback.Session[sim.Input], cfg sim.Config, r *Room) *Match {
	m := &Match{sess: rbEngine{sess}, room: r, s: sim.New(cfg)}
	m.rb = &rbMatch{sess: sess, slots: make([]sim.State, sess.Slots())}
	return m
}

// advanceRollback carries out one rollback Advance's requests; ran
// reports whether a new frame was simulated.
func (m *Match) advanceRollback(local sim.Input) (ran bool, err error) {
	rb := m.rb
	reqs, err := rb.sess.Advance(local)
	for _, r := range reqs {
		switch r.Kind {
		case rollback.Save:
			m.s.Save(&rb.slots[r.Slot])
		case rollback.Load:
			m.s.Load(&rb.slots[r.Slot])
		case rollback.Advance:
			var in [2]sim.Input
			copy(in[:], r.Inputs)
			m.s.Step(in)
			rb.sess.ReportChecksum(r.Frame, m.s.Checksum())
			rb.hist[r.Frame%histRing] = m.s
			ran = true
		}
	}
	// Confirmed frames made final go to the streamer (watchers, a
	// restarted lockstep player catching up), with the state after each.
	for _, st := range rb.sess.Steps() {
		m.stream(st, rb.hist[st.Frame%histRing].Checksum())
	}
	// Frames now confirmed (and simulated): their states are the match's.
	for f := rb.checked; f < min(rb.sess.Confirmed(), rb.sess.Head()); f++ {
		rb.checked = f + 1
		if h := rb.hist[f%histRing]; m.final == nil && h.Over() {
			m.final = &h
		}
	}
	return ran, err
}

// catchUpRollback is catchUp for a rollback session: while it waits for
// admission its Advance returns no request (sync/rollback's doc); once
// admitted at R, the game plays the stream up to R-1 and then carries out
// requests from R on.
func (m *Match) catchUpRollback(local sim.Input) (done bool, err error) {
	rb := m.rb
	r := rb.sess.JoinFrame()
	if _, err := m.spectate(r); err != nil {
		return false, err
	}
	if r == lockstep.NoFrame {
		reqs, err := rb.sess.Advance(local)
		if err == nil && len(reqs) > 0 {
			err = fmt.Errorf("netplay: rollback ran %d requests before admitting this seat", len(reqs))
		}
		return false, err
	}
	if lockstep.Frame(m.s.Frame) < r {
		return false, nil
	}
	m.sp = nil
	rb.checked = r
	m.room.note("back in the match")
	return true, nil
}

// rates returns the rollbacks per second and frames re-simulated per
// tick, averaged over the match (for the network overlay).
func (rb *rbMatch) rates() (perSec, perTick float64) {
	st := rb.sess.Stats()
	if st.Ticks == 0 {
		return 0, 0
	}
	rate := lockstep.DefaultTickRate
	return float64(st.Rollbacks) * float64(rate) / float64(st.Ticks), float64(st.Resimulated) / float64(st.Ticks)
}

// rollbackSummary is the rollback figures appended to Summary.
func (m *Match) rollbackSummary() string {
	if m.rb == nil {
		return ""
	}
	st := m.rb.sess.Stats()
	return fmt.Sprintf(" rollbacks=%d resimulated=%d longest_rollback=%d", st.Rollbacks, st.Resimulated, st.LongestRollback)
}
