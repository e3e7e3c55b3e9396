package play

import (
	"github.com/peerplay/peerplay/demo/pong/replay"
	"github.com/peerplay/peerplay/demo/pong/sim"
)

// Match is one game of Pong as the front sees it, whoever supplies the
// other paddle (a bot, a replay file or a peer over lockstep). The front
// calls Tick once per ebiten Update (or per tick of the headless loop).
// Not safe for concurrent use.
type Match interface {
	// Tick hands in the local player's input for this tick and advances the
	// simulation by as many frames as are ready: usually one, zero while a
	// networked match stalls, several while it catches up.
	Tick(local sim.Input) error
	// State returns the current simulation state; the caller must not
	// modify it. A match keeps stepping after its end (a networked one
	// ticks on so the peer gets the last inputs, and sim.State.Step then
	// advances only Frame), so State's Frame and Checksum after the end
	// depend on when the caller looks: report Final instead.
	State() *sim.State
	// Final returns the state at the frame the match ended (the frame
	// whose Step set the winner), or nil while it runs; in a rollback
	// match, only once that frame is confirmed. It never changes once
	// set: every front reports this state as the match's result.
	Final() *sim.State
	// Seat is the local player's seat (0 = left paddle), or -1 for a
	// spectator (replays).
	Seat() int
	// Close ends the match; it is idempotent.
	Close() error
}

// recorder steps a state, keeps the state at the frame it ended, and
// optionally records every frame's inputs.
type recorder struct {
	s     sim.State
	final *sim.State     // nil until the match ends
	rec   *replay.Replay // nil: not recording
}

func newRecorder(cfg sim.Config, record bool) recorder {
	r := recorder{s: sim.New(cfg)}
	if record {
		r.rec = &replay.Replay{Config: cfg}
	}
	return r
}

func (r *recorder) step(in [2]sim.Input) {
	if r.rec != nil {
		r.rec.Inputs = append(r.rec.Inputs, in)
	}
	r.s.Step(in)
	if r.final == nil && r.s.Over() {
		f := r.s
		r.final = &f
	}
}

// Final returns the state at the frame the match ended, or nil.
func (r *recorder) Final() *sim.State { return r.final }

// Replay returns what was recorded so far with the current checksum, or
// nil when the match was not recording.
func (r *recorder) Replay() *replay.Replay {
	if r.rec == nil {
		return nil
	}
	out := *r.rec
	out.Checksum = r.s.Checksum()
	return &out
}

// Local is a match on one machine: the local player against the bot, or bot
// against bot. It never stalls.
type Local struct {
	recorder
	seat   int
	botAll bool
}

// LocalConfig configures NewLocal.
type LocalConfig struct {
	Sim sim.Config
	// Seat is the local player's seat; the other seat is the bot.
	Seat int
	// Bot lets the bot play the local seat too (the local input is ignored).
	Bot bool
	// Record keeps every frame's inputs for Replay.
	Record bool
}

// NewLocal starts a local match.
func NewLocal(cfg LocalConfig) *Local {
	return &Local{recorder: newRecorder(cfg.Sim, cfg.Record), seat: cfg.Seat & 1, botAll: cfg.Bot}
}

// Tick steps one frame; after the match's end it does nothing (State
// stays at the game-over frame).
func (m *Local) Tick(local sim.Input) error {
	if m.final != nil {
		return nil
	}
	var in [2]sim.Input
	for seat := range 2 {
		if seat == m.seat && !m.botAll {
			in[seat] = local
		} else {
			in[seat] = sim.Bot(&m.s, seat)
		}
	}
	m.step(in)
	return nil
}

// State returns the current state.
func (m *Local) State() *sim.State { return &m.s }

// Seat returns the local seat.
func (m *Local) Seat() int { return m.seat }

// Close does nothing.
func (m *Local) Close() error { return nil }

// Playback replays a recorded match, one frame per Tick.
type Playback struct {
	recorder
	r *replay.Replay
}

// NewPlayback starts playing r from frame 0.
func NewPlayback(r *replay.Replay) *Playback {
	return &Playback{recorder: newRecorder(r.Config, false), r: r}
}

// Tick steps the next recorded frame; local input is ignored.
func (m *Playback) Tick(sim.Input) error {
	if i := int(m.s.Frame); i < len(m.r.Inputs) {
		m.step(m.r.Inputs[i])
	}
	return nil
}

// Done reports whether every recorded frame has been played.
func (m *Playback) Done() bool { return int(m.s.Frame) >= len(m.r.Inputs) }

// State returns the current state.
func (m *Playback) State() *sim.State { return &m.s }

// Seat returns -1: a replay is watched, not played.
func (m *Playback) Seat() int { return -1 }

// Close does nothing.
func (m *Playback) Close() error { return nil }
