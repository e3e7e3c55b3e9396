package netplay

import (
	"errors"
	"fmt"
	"slices"

	"github.com/peerplay/peerplay/demo/pong/play"
	"github.com/peerplay/peerplay/demo/pong/sim"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// Watching and catching up (see "Watching" and "Rejoin" in the package
// doc). Every player's Match runs a lockstep.Streamer on the stream
// channel; a watcher's Match runs a lockstep.Spectator of one player
// (Source) checked by the other (Witness); a player whose seat comes back
// after a restart runs a Spectator without delay until its state reaches
// the frame the others readmit it at.

// WatchDelay is how many frames a watcher stays behind the newest frame
// it received (lockstep.SpectatorConfig.Delay): half a second at 60 Hz,
// so the match it shows moves evenly.
const WatchDelay = 30

// streamSumEvery: players give their streamers the checksum of every
// streamSumEvery-th frame; watchers compare the same frames.
const streamSumEvery = 30

// newStreamer starts the player's streamer of a match. A rollback
// player streams its confirmed frames only (rollback.Session.Steps, with
// the state after each from its history ring), so watchers see what a
// lockstep player would stream.
func (r *Room) newStreamer(seats int, gameID uint64) *lockstep.Streamer[sim.Input] {
	st, err := lockstep.NewStreamer[sim.Input](lockstep.StreamConfig{
		Conn: r.mesh.Channel(chanStream), Seats: seats, GameID: gameID, Snapshots: true, Logger: r.net.log,
	})
	if err != nil {
		r.net.log.Debug("netplay: no streamer", "err", err)
		return nil
	}
	return st
}

// newSpectator subscribes to source (inputs) and witnesses (checksums).
func (r *Room) newSpectator(gameID uint64, source transport.PeerID, witnesses []transport.PeerID, delay int) (*lockstep.Spectator[sim.Input], error) {
	return lockstep.NewSpectator[sim.Input](lockstep.SpectatorConfig{
		Conn: r.mesh.Channel(chanStream), Source: source, Witnesses: witnesses,
		GameID: gameID, Delay: delay, Logger: r.net.log,
	})
}

// spEngine is a watcher's engine: a Spectator has no seat, no delay and
// no events of its own.
type spEngine struct{ m *Match }

func (e spEngine) Stats() lockstep.Stats {
	st := e.m.sp.Stats()
	return lockstep.Stats{Frame: lockstep.Frame(e.m.s.Frame), Ticks: uint64(e.m.ticks), BytesRecv: st.BytesRecv}
}
func (spEngine) SlowDown() int                         { return 0 }
func (spEngine) PollEvents() []lockstep.Event          { return nil }
func (spEngine) LocalSeat() int                        { return -1 }
func (spEngine) ReportChecksum(lockstep.Frame, uint64) {}
func (spEngine) Close() error                          { return nil }

// newWatchMatch is a watcher's match: it shows what sp receives.
func newWatchMatch(sp *lockstep.Spectator[sim.Input], cfg sim.Config, r *Room) *Match {
	m := &Match{room: r, s: sim.New(cfg), sp: sp}
	m.sess = spEngine{m}
	return m
}

// stream gives the player's streamer one step and its checksum.
func (m *Match) stream(st lockstep.Step[sim.Input], sum uint64) {
	if m.str == nil {
		return
	}
	m.str.Step(st)
	if st.Frame%streamSumEvery == 0 {
		m.str.ReportChecksum(st.Frame, sum)
	}
}

// flushStream answers the streamer's subscribers once per tick: a
// snapshot when one waits for it, what each lacks, and the end of the
// stream once the match is over.
func (m *Match) flushStream() {
	if m.str == nil {
		return
	}
	state := &m.s // lockstep: the state after the last frame streamed
	if m.rb != nil && m.str.End() > 0 {
		// Rollback runs ahead of its confirmed frames: the state after
		// the last one streamed is in the history ring.
		state = &m.rb.hist[(m.str.End()-1)%histRing]
	}
	if m.str.Wanted() && m.str.End() > 0 && lockstep.Frame(state.Frame) == m.str.End() {
		if err := m.str.Snapshot(encodeState(state)); err != nil {
			m.room.net.log.Debug("netplay: snapshot", "err", err)
		}
	}
	m.str.Flush()
	if m.final != nil && !m.finished {
		m.finished = true
		m.str.Finish()
	}
}

// restore loads a snapshot from the stream: the state after c.Frame.
func (m *Match) restore(c lockstep.Catchup) error {
	s, err := decodeState(c.State)
	if err == nil && int64(s.Frame) != int64(c.Frame)+1 {
		err = fmt.Errorf("%w: the state of frame %d sent as frame %d's", errSnapshot, s.Frame, c.Frame)
	}
	if err != nil {
		return &play.Problem{Say: "the match stream from the other players is broken", Err: err}
	}
	m.s = s
	if m.s.Over() && m.final == nil {
		f := m.s
		m.final = &f
	}
	return nil
}

// spectate reads the spectator: a snapshot to restore, then the steps
// ready; upTo (if not lockstep.NoFrame) is the first frame not to apply
// (a rejoining player applies only the frames before its seat's return).
func (m *Match) spectate(upTo lockstep.Frame) (ran bool, err error) {
	if c, ok := m.sp.Restore(); ok {
		if err := m.restore(c); err != nil {
			return false, err
		}
		if m.rb != nil && m.s.Frame > 0 {
			m.rb.hist[(m.s.Frame-1)%histRing] = m.s
		}
		ran = true
	}
	steps, err := m.sp.Advance()
	if err != nil {
		var de *lockstep.DesyncError
		switch {
		case errors.As(err, &de):
			return ran, &DesyncError{Err: fmt.Errorf("desync: %w", err)}
		case errors.Is(err, lockstep.ErrStreamRefused):
			return ran, &play.Problem{Say: "the players' game refused to stream the match (too many watching?)", Err: err}
		default:
			return ran, err
		}
	}
	for _, st := range steps {
		if upTo != lockstep.NoFrame && st.Frame >= upTo {
			break
		}
		if lockstep.Frame(m.s.Frame) != st.Frame {
			continue // before the restored snapshot
		}
		var in [2]sim.Input
		copy(in[:], st.Inputs)
		m.s.Step(in)
		sum := m.s.Checksum()
		if st.Frame%streamSumEvery == 0 {
			m.sp.ReportChecksum(st.Frame, sum)
		}
		m.stream(st, sum) // a rejoining player streams too, from here on
		if m.rb != nil {
			m.rb.hist[st.Frame%histRing] = m.s // a rollback streamer's snapshots come from there
		}
		if m.s.Over() && m.final == nil {
			f := m.s
			m.final = &f
		}
		ran = true
	}
	return ran, nil
}

// tickWatch is a watcher's Tick.
func (m *Match) tickWatch() error {
	ran, err := m.spectate(lockstep.NoFrame)
	for _, ev := range m.sp.PollEvents() {
		if ev.Kind == lockstep.EventSourceSwitched {
			// lockstep's source failover: the player it streamed from
			// died, left or stopped streaming; the other one streams now.
			m.room.note("the stream from " + m.room.name(ev.From) + " stopped: watching from " + m.room.name(ev.Peer))
		}
	}
	m.sample()
	if ran {
		m.stalled = 0
	} else {
		m.stalled++
	}
	if err != nil {
		m.err = err
	}
	return m.err
}

// catchUp is a rejoining player's Tick until its game reached the frame
// its seat comes back at (lockstep's JoinFrame): it asks to be readmitted
// (Advance of a Config.Join session advances nothing; its request also
// stands for the goodbye its killed game could not say, which is what
// lets the other seat of a 2-seat match drop and readmit it) and plays
// the stream's frames. done reports that the state is the match's state
// after JoinFrame-1: the session plays from here on.
func (m *Match) catchUp(local sim.Input) (done bool, err error) {
	if m.rb != nil {
		return m.catchUpRollback(local)
	}
	r := m.ls.JoinFrame()
	if _, err := m.spectate(r); err != nil {
		return false, err
	}
	if r == lockstep.NoFrame {
		steps, err := m.ls.Advance(local)
		if err != nil {
			return false, err
		}
		// Admitted during this Advance: it may have run frame R already,
		// before the game reached it. Keep the steps for then.
		for _, st := range steps {
			st.Inputs = slices.Clone(st.Inputs)
			st.Status = slices.Clone(st.Status)
			m.pending = append(m.pending, st)
		}
		return false, nil
	}
	if lockstep.Frame(m.s.Frame) < r {
		return false, nil
	}
	m.sp = nil
	m.room.note("back in the match")
	return true, nil
}
