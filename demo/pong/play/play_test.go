package play

import (
	"testing"

	"github.com/peerplay/peerplay/demo/pong/sim"
)

func TestLocalRecordsAndPlaysBack(t *testing.T) {
	cfg := sim.Config{Seed: 4, WinScore: 2}
	m := NewLocal(LocalConfig{Sim: cfg, Seat: 1, Record: true})
	if m.Seat() != 1 {
		t.Fatalf("Seat = %d, want 1", m.Seat())
	}
	// The human on seat 1 holds Up for a while, then the bots decide.
	for i := 0; !m.State().Over(); i++ {
		in := sim.Input{}
		if i < 100 {
			in.Buttons = sim.Up
		}
		if err := m.Tick(in); err != nil {
			t.Fatal(err)
		}
		if i == 99 && m.State().PaddleY[1] != 0 {
			t.Fatalf("after 100 frames of Up, seat 1's paddle is at %d, want 0 (the top)", m.State().PaddleY[1])
		}
	}
	r := m.Replay()
	if r == nil || len(r.Inputs) != int(m.State().Frame) || r.Checksum != m.State().Checksum() {
		t.Fatalf("Replay() = %d frames, checksum %#x; want %d frames, %#x", len(r.Inputs), r.Checksum, m.State().Frame, m.State().Checksum())
	}
	for i := range 100 {
		if r.Inputs[i][1].Buttons != sim.Up {
			t.Fatalf("frame %d: recorded seat 1 input %+v, want Up", i, r.Inputs[i][1])
		}
	}
	p := NewPlayback(r)
	for !p.Done() {
		_ = p.Tick(sim.Input{Buttons: sim.Down}) // ignored
	}
	if *p.State() != *m.State() || p.Seat() != -1 {
		t.Errorf("playback ended on %+v (seat %d), want %+v", *p.State(), p.Seat(), *m.State())
	}
}

func TestLocalBotBothSeats(t *testing.T) {
	m := NewLocal(LocalConfig{Sim: sim.Config{Seed: 42, WinScore: 3}, Bot: true})
	s := sim.New(sim.Config{Seed: 42, WinScore: 3})
	for !m.State().Over() {
		_ = m.Tick(sim.Input{Buttons: sim.Up}) // ignored: the bot plays seat 0 too
		s.Step([2]sim.Input{sim.Bot(&s, 0), sim.Bot(&s, 1)})
	}
	if *m.State() != s {
		t.Errorf("bot match = %+v, want %+v", *m.State(), s)
	}
	if m.Replay() != nil {
		t.Error("Replay() of a match not recording is not nil")
	}
}

// TestFinalIsTheGameOverFrame: Final is nil while a match runs, then the
// state of the frame that set the winner, whatever is ticked after; a
// playback of a log that runs past the end (a lockstep recording: the
// peers linger) ends on the same frame.
func TestFinalIsTheGameOverFrame(t *testing.T) {
	cfg := sim.Config{Seed: 9, WinScore: 1}
	want := sim.New(cfg)
	for !want.Over() {
		want.Step([2]sim.Input{sim.Bot(&want, 0), sim.Bot(&want, 1)})
	}
	m := NewLocal(LocalConfig{Sim: cfg, Bot: true, Record: true})
	for i := 0; i < int(want.Frame)+30; i++ {
		if m.Final() != nil && i < int(want.Frame) {
			t.Fatalf("Final set after %d ticks, the match ends at frame %d", i, want.Frame)
		}
		_ = m.Tick(sim.Input{})
	}
	if f := m.Final(); f == nil || *f != want {
		t.Fatalf("local Final = %+v, want %+v", f, want)
	}
	if *m.State() != want {
		t.Errorf("a local match stepped past its end: State = frame %d, want %d", m.State().Frame, want.Frame)
	}
	r := m.Replay()
	for range 20 { // the lingering frames of a lockstep log
		r.Inputs = append(r.Inputs, [2]sim.Input{})
	}
	p := NewPlayback(r)
	for !p.Done() {
		_ = p.Tick(sim.Input{})
	}
	if f := p.Final(); f == nil || *f != want || p.State().Frame != want.Frame+20 {
		t.Errorf("playback Final = %+v at frame %d, want %+v at frame %d", f, p.State().Frame, want, want.Frame+20)
	}
}
