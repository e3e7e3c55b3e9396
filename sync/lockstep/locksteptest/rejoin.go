package locksteptest

import (
	"errors"
	"fmt"
	"slices"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
)

// Rejoin, late join and spectators: every seat has a Control channel and
// a Streamer; joiners and spectators catch up from a snapshot of the
// source seat when the Sim is a Snapshotter, else by replaying the
// stream's log from frame 0 (any Sim can), then joiners enter at their
// JoinFrame.

// Snapshotter is a Sim whose state can be saved and restored. With it,
// joiners and spectators catch up from a snapshot of the source seat
// (lockstep.StreamConfig.Snapshots, Spectator.Restore) instead of
// replaying the match from frame 0; the restored state's checksum is
// checked against the source's.
type Snapshotter interface {
	// Snapshot encodes the whole state.
	Snapshot() []byte
	// Restore replaces the state with one Snapshot encoded.
	Restore(state []byte) error
}

// streaming reports whether the run needs control channels and streams.
func (r *runner[I]) streaming() bool {
	return len(r.cfg.Rejoin) > 0 || len(r.cfg.LateJoin) > 0 || len(r.cfg.Spectators) > 0 ||
		slices.ContainsFunc(r.cfg.Pause, func(p Pause) bool { return p.Rejoin })
}

// snapshots reports whether the Sim can be snapshot.
func (r *runner[I]) snapshots() bool {
	_, ok := r.cfg.NewSim(0).(Snapshotter)
	return ok
}

// pauseRejoin reports whether seat i restarts after a pause that got it
// dropped.
func (r *runner[I]) pauseRejoin(i int) bool {
	return slices.ContainsFunc(r.cfg.Pause, func(p Pause) bool { return p.Seat == i && p.Rejoin })
}

// restart: seat i, back from its pause, was told it was dropped (err):
// check what it ran before its drop frame, then start it again with
// Config.Join.
func (r *runner[I]) restart(i int, p *player[I], err error) error {
	var de *lockstep.DroppedError
	if !errors.As(err, &de) {
		return fmt.Errorf("locksteptest: seat %d: %w", i, err)
	}
	for f := 0; f < min(len(p.sums), int(de.Frame)) && f < len(r.ref); f++ {
		if p.sums[f] != r.ref[f] {
			return &DivergenceError{Frame: lockstep.Frame(f), SeatA: r.refSeat[f], SumA: r.ref[f], SeatB: i, SumB: p.sums[f]}
		}
	}
	for j, o := range r.players {
		if f, ok := o.drops[i]; ok && j != i && !o.gone && f != de.Frame {
			return fmt.Errorf("locksteptest: seat %d was told it was dropped at frame %d, seat %d dropped it at %d", i, de.Frame, j, f)
		}
	}
	_ = p.sess.Close()
	p.rejoined = true
	r.start(i, p)
	return nil
}

func (r *runner[I]) lateSeat(i int) bool {
	return slices.ContainsFunc(r.cfg.LateJoin, func(l LateJoin) bool { return l.Seat == i })
}

func (r *runner[I]) joiner(i int) bool {
	return r.lateSeat(i) || slices.ContainsFunc(r.cfg.Rejoin, func(rj Rejoin) bool { return rj.Seat == i }) ||
		r.pauseRejoin(i)
}

// setupJoins validates the scenarios and picks the stream source: the
// lowest seat that never crashes nor joins late.
func (r *runner[I]) setupJoins() error {
	r.source = -1
	for _, rj := range r.cfg.Rejoin {
		if rj.Seat < 0 || rj.Seat >= r.cfg.Seats || rj.Ticks < 0 {
			return fmt.Errorf("locksteptest: invalid rejoin of seat %d", rj.Seat)
		}
	}
	for _, l := range r.cfg.LateJoin {
		if l.Seat < 0 || l.Seat >= r.cfg.Seats {
			return fmt.Errorf("locksteptest: invalid late join of seat %d", l.Seat)
		}
	}
	if !r.streaming() {
		return nil
	}
	for i := range r.cfg.Seats {
		if !r.joiner(i) {
			r.source = i
			break
		}
	}
	if r.source < 0 {
		return fmt.Errorf("locksteptest: every seat rejoins or joins late: no stream source")
	}
	return nil
}

// joins applies this tick's crashes, restarts, late joins and spectators.
func (r *runner[I]) joins() {
	for _, rj := range r.cfg.Rejoin {
		p := r.players[rj.Seat]
		switch r.ticks {
		case rj.Tick:
			// Crashed: no goodbye, the session is gone with its state.
			p.stats = p.sess.Stats()
			p.down, p.watched, p.str = true, true, nil
		case rj.Tick + rj.Ticks:
			r.start(rj.Seat, p)
		}
	}
	for _, l := range r.cfg.LateJoin {
		if r.ticks == l.Tick {
			r.start(l.Seat, r.players[l.Seat])
		}
	}
	for k, sp := range r.cfg.Spectators {
		if r.ticks != sp.Tick {
			continue
		}
		id := transport.PeerID(fmt.Sprintf("spect%02d", k))
		p := &player[I]{peer: r.net.Join(id), spectator: true, drops: map[int]lockstep.Frame{}, sim: r.cfg.NewSim(r.source),
			joined: lockstep.NoFrame, restored: lockstep.NoFrame}
		p.spec = p.peer.Channel("stream", transport.Reliable)
		p.sp = r.spectator(p.spec, sp.Delay)
		r.players = append(r.players, p)
	}
}

// spectator subscribes to the source, with up to two witnesses.
func (r *runner[I]) spectator(conn transport.Conn, delay int) *lockstep.Spectator[I] {
	var witnesses []transport.PeerID
	for i := range r.cfg.Seats {
		if i != r.source && !r.joiner(i) && len(witnesses) < 2 {
			witnesses = append(witnesses, r.ids[i])
		}
	}
	sp, err := lockstep.NewSpectator[I](lockstep.SpectatorConfig{Conn: conn, Source: r.ids[r.source], Witnesses: witnesses, Delay: delay})
	if err != nil {
		panic(err) // unreachable: the config is valid by construction
	}
	return sp
}

// start (re)starts seat i with Config.Join, from a fresh simulation.
func (r *runner[I]) start(i int, p *player[I]) {
	sc := r.cfg.Session
	sc.Seats, sc.Control, sc.Join = r.ids, p.ctl, true
	for _, l := range r.cfg.LateJoin {
		sc.Reserved = append(sc.Reserved, r.ids[l.Seat])
	}
	sess, err := lockstep.NewSession[I](p.ls, sc)
	if err != nil {
		panic(err) // unreachable: the template passed NewSession already
	}
	p.sess, p.sp, p.sim = sess, r.spectator(p.spec, 0), r.cfg.NewSim(i)
	p.sums, p.down, p.watched, p.stall, p.str = nil, false, false, 0, nil
	p.restored = lockstep.NoFrame
}

// catchUp runs one tick of a spectator, or of a joiner catching up.
func (r *runner[I]) catchUp(i int, p *player[I]) error {
	if c, ok := p.sp.Restore(); ok {
		sn, ok := p.sim.(Snapshotter)
		if !ok || int(c.Frame) >= len(r.ref) {
			return fmt.Errorf("locksteptest: %s got a snapshot of frame %d it cannot use", p.peer.ID(), c.Frame)
		}
		if err := sn.Restore(c.State); err != nil {
			return fmt.Errorf("locksteptest: %s restoring frame %d: %w", p.peer.ID(), c.Frame, err)
		}
		if sum := p.sim.Checksum(); sum != r.ref[c.Frame] {
			return &DivergenceError{Frame: c.Frame, SeatA: r.refSeat[c.Frame], SumA: r.ref[c.Frame], SeatB: i, SumB: sum}
		}
		// The frames up to the snapshot were not run here: they count as
		// the reference's.
		p.sums = append(p.sums[:0], r.ref[:c.Frame+1]...)
		p.restored = c.Frame
		p.sp.ReportChecksum(c.Frame, r.ref[c.Frame])
	}
	steps, err := p.sp.Advance()
	p.events = append(p.events, p.sp.PollEvents()...) // a source switch
	if err != nil {
		return fmt.Errorf("locksteptest: %s spectating: %w", p.peer.ID(), err)
	}
	join := lockstep.NoFrame
	if !p.spectator {
		join = p.sess.JoinFrame()
	}
	ran := 0
	for _, st := range steps {
		if !p.spectator && join != lockstep.NoFrame && st.Frame >= join {
			break
		}
		if st.Frame != lockstep.Frame(len(p.sums)) {
			return fmt.Errorf("locksteptest: %s got frame %d, want %d", p.peer.ID(), st.Frame, len(p.sums))
		}
		p.sim.Step(st.Frame, st.Inputs)
		sum := p.sim.Checksum()
		p.sums = append(p.sums, sum)
		p.sp.ReportChecksum(st.Frame, sum)
		if err := r.compare(i, st.Frame, sum); err != nil {
			return err
		}
		ran++
	}
	if ran == 0 && len(p.sums) < r.cfg.Frames {
		if p.stall++; p.stall > r.maxStall {
			return &StallError{Seat: i, Frame: lockstep.Frame(len(p.sums)), Ticks: p.stall}
		}
	} else {
		p.stall = 0
	}
	if p.spectator {
		return nil
	}
	if join == lockstep.NoFrame {
		var in I
		if _, err := p.sess.Advance(in); err != nil {
			return fmt.Errorf("locksteptest: seat %d joining: %w", i, err)
		}
		p.events = append(p.events, p.sess.PollEvents()...)
		return nil
	}
	if len(p.sums) < int(join) {
		return nil // still catching up
	}
	p.sp = nil
	str, err := lockstep.NewStreamer[I](lockstep.StreamConfig{Conn: p.spec, Seats: r.cfg.Seats})
	if err != nil {
		return err
	}
	p.str = str
	return r.step(i, p)
}
