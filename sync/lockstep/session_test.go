package lockstep_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/lockstep/locksteptest"
)

func TestNewSessionConfig(t *testing.T) {
	conns := locksteptest.Loopback("a", "b")
	two := []transport.PeerID{"b", "a"}
	tests := []struct {
		name string
		cfg  lockstep.Config
		want error
	}{
		{"ok", lockstep.Config{Seats: two}, nil},
		{"no seats", lockstep.Config{}, lockstep.ErrInvalidConfig},
		{"not seated", lockstep.Config{Seats: []transport.PeerID{"b", "c"}}, lockstep.ErrInvalidConfig},
		{"duplicate", lockstep.Config{Seats: []transport.PeerID{"a", "b", "a"}}, lockstep.ErrInvalidConfig},
		{"too many seats", lockstep.Config{Seats: manySeats(lockstep.MaxSeats + 1)}, lockstep.ErrInvalidConfig},
		{"negative delay", lockstep.Config{Seats: two, InputDelay: -1}, lockstep.ErrInvalidConfig},
		{"delay above max", lockstep.Config{Seats: two, InputDelay: 9, MaxInputDelay: 8}, lockstep.ErrInvalidConfig},
		{"max delay above window", lockstep.Config{Seats: two, InputWindow: 10, MaxInputDelay: 9}, lockstep.ErrInvalidConfig},
		{"catch-up above delay", lockstep.Config{Seats: two, CatchUp: 100}, lockstep.ErrInvalidConfig},
		{"adaptive range", lockstep.Config{Seats: two, Adaptive: lockstep.AdaptiveDelay{Min: 5, Max: 3}}, lockstep.ErrInvalidConfig},
		{"loss target", lockstep.Config{Seats: two, Adaptive: lockstep.AdaptiveDelay{LossTarget: 2}}, lockstep.ErrInvalidConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := lockstep.NewSession[input](conns[0], tt.cfg)
			if !errors.Is(err, tt.want) {
				t.Errorf("NewSession = %v, want %v", err, tt.want)
			}
		})
	}
}

func manySeats(n int) []transport.PeerID {
	out := []transport.PeerID{"a"}
	for i := 1; i < n; i++ {
		out = append(out, locksteptest.PeerID(i))
	}
	return out
}

func TestDefaults(t *testing.T) {
	conns := locksteptest.Loopback("a", "b")
	s, err := lockstep.NewSession[input](conns[0], lockstep.Config{Seats: []transport.PeerID{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.InputDelay != lockstep.DefaultInputDelay || st.Window != lockstep.DefaultInputWindow {
		t.Errorf("delay %d, window %d; want %d, %d", st.InputDelay, st.Window, lockstep.DefaultInputDelay, lockstep.DefaultInputWindow)
	}
	// The delay's head start: frames 0..delay-1 already hold the local
	// (zero) input.
	if st.InputFrame != lockstep.Frame(lockstep.DefaultInputDelay-1) || st.Frame != 0 {
		t.Errorf("input frame %d, frame %d; want %d, 0", st.InputFrame, st.Frame, lockstep.DefaultInputDelay-1)
	}
	if s.LocalSeat() != 0 {
		t.Errorf("LocalSeat = %d, want 0", s.LocalSeat())
	}
}

// TestInputType: only fixed-size binary values are inputs.
func TestInputType(t *testing.T) {
	conns := locksteptest.Loopback("a", "b")
	cfg := lockstep.Config{Seats: []transport.PeerID{"a", "b"}}
	//lint:ignore U1000 the unexported fields are the point: Decode cannot set them
	type unexported struct{ a, b uint8 }
	type big struct {
		B [lockstep.MaxInputSize + 1]byte
	}
	type fine struct {
		A  bool
		B  [3]int16
		_  uint8
		F  float32
		Ok uint64
	}
	check := func(name string, err error, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Errorf("%s: NewSession = %v, want %v", name, err, want)
		}
	}
	_, err := lockstep.NewSession[int](conns[0], cfg)
	check("int", err, lockstep.ErrInputType)
	_, err = lockstep.NewSession[[]byte](conns[0], cfg)
	check("[]byte", err, lockstep.ErrInputType)
	_, err = lockstep.NewSession[string](conns[0], cfg)
	check("string", err, lockstep.ErrInputType)
	_, err = lockstep.NewSession[unexported](conns[0], cfg)
	check("unexported fields", err, lockstep.ErrInputType)
	_, err = lockstep.NewSession[big](conns[0], cfg)
	check("too big", err, lockstep.ErrInputType)
	_, err = lockstep.NewSession[uint8](conns[0], cfg)
	check("uint8", err, nil)
	_, err = lockstep.NewSession[fine](conns[0], cfg)
	check("struct", err, nil)
}

// twoSessions runs two sessions over an impaired memnet in a synctest
// bubble, calling each tick's f.
func twoSessions(t *testing.T, link memnet.Link, cfg lockstep.Config, ticks int, f func(tick int, s []*lockstep.Session[input])) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		n := memnet.New(memnet.Config{Seed: 9, Link: link})
		defer n.Close()
		cfg.Seats = []transport.PeerID{"a", "b"}
		var ss []*lockstep.Session[input]
		for _, id := range cfg.Seats {
			s, err := lockstep.NewSession[input](n.Join(id).Channel("ls", transport.Unreliable), cfg)
			if err != nil {
				t.Fatal(err)
			}
			ss = append(ss, s)
		}
		for tick := range ticks {
			f(tick, ss)
			time.Sleep(time.Second / 60)
		}
		for _, s := range ss {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
			if err := s.Close(); err != nil {
				t.Errorf("second Close = %v, want nil", err)
			}
		}
	})
}

// TestDesync: a checksum mismatch is reported by both peers once, as an
// EventDesync whose Err is a *DesyncError with the facts; Advance returns
// no error for it (one fact, one delivery: CONTRIBUTING.md) and the
// sessions go on. With the deprecated Config.DesyncErrors, Advance also
// returns it once, as before.
func TestDesync(t *testing.T) {
	for _, old := range []bool{false, true} {
		t.Run(fmt.Sprintf("DesyncErrors=%v", old), func(t *testing.T) { testDesync(t, old) })
	}
}

func testDesync(t *testing.T, desyncErrors bool) {
	const bad = 90
	var errs, evs [2][]*lockstep.DesyncError
	frames := [2]lockstep.Frame{}
	cfg := lockstep.Config{ChecksumInterval: 30, DesyncErrors: desyncErrors}
	twoSessions(t, memnet.Link{Latency: 20 * time.Millisecond, Loss: 0.1}, cfg, 400,
		func(tick int, ss []*lockstep.Session[input]) {
			for i, s := range ss {
				steps, err := s.Advance(input{})
				if err != nil {
					var de *lockstep.DesyncError
					if !errors.As(err, &de) || !errors.Is(err, lockstep.ErrDesync) {
						t.Fatalf("seat %d: Advance = %v, want a *DesyncError", i, err)
					}
					errs[i] = append(errs[i], de)
				}
				for _, st := range steps {
					sum := uint64(st.Frame)
					if i == 1 && st.Frame == bad {
						sum = 12345
					}
					s.ReportChecksum(st.Frame, sum)
					frames[i] = st.Frame
				}
				for _, e := range s.PollEvents() {
					if e.Kind == lockstep.EventDesync {
						var de *lockstep.DesyncError
						if !errors.As(e.Err, &de) || !errors.Is(e.Err, lockstep.ErrDesync) {
							t.Fatalf("seat %d: event error %v, want a *DesyncError", i, e.Err)
						}
						if e.Frame != de.Frame || e.Seat != de.Seat || e.Peer != de.Peer {
							t.Errorf("seat %d: event %+v disagrees with its error %+v", i, e, *de)
						}
						evs[i] = append(evs[i], de)
					}
				}
			}
		})
	wantErrs := 0
	if desyncErrors {
		wantErrs = 1
	}
	for i := range 2 {
		if len(errs[i]) != wantErrs || len(evs[i]) != 1 {
			t.Fatalf("seat %d: %d desync errors from Advance, %d events; want %d, 1", i, len(errs[i]), len(evs[i]), wantErrs)
		}
		if desyncErrors && *errs[i][0] != *evs[i][0] {
			t.Errorf("seat %d: Advance's %+v differs from the event's %+v", i, *errs[i][0], *evs[i][0])
		}
		de := evs[i][0]
		local, remote := uint64(bad), uint64(12345)
		if i == 1 {
			local, remote = remote, local
		}
		if de.Frame != bad || de.Seat != 1-i || de.Local != local || de.Remote != remote {
			t.Errorf("seat %d: %+v, want frame %d, seat %d, local %d, remote %d", i, *de, bad, 1-i, local, remote)
		}
		if !strings.Contains(de.Error(), "desync at frame 90") {
			t.Errorf("message %q", de.Error())
		}
		if frames[i] < 300 {
			t.Errorf("seat %d stopped at frame %d after the desync", i, frames[i])
		}
	}
}

// TestAdvanceAfterClose: ErrClosed.
func TestAdvanceAfterClose(t *testing.T) {
	conns := locksteptest.Loopback("a", "b")
	s, err := lockstep.NewSession[input](conns[0], lockstep.Config{Seats: []transport.PeerID{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Advance(input{}); !errors.Is(err, lockstep.ErrClosed) {
		t.Errorf("Advance after Close = %v, want ErrClosed", err)
	}
	// The goodbye went out.
	if m, ok := conns[1].TryRecv(); !ok || len(m.Data) == 0 {
		t.Errorf("no goodbye datagram at the other seat")
	}
}

// TestSteps checks the Step contract on a clean link: frames in order from
// 0, inputs by seat, the same on both seats, zero inputs in the delay's
// head start (frames 0..delay-1), and, at a constant delay with no stall,
// each tick's input in exactly one frame (consecutive frames carry
// consecutive ticks' inputs: none skipped, none doubled).
func TestSteps(t *testing.T) {
	const delay = 3
	var got [2][]lockstep.Step[input]
	twoSessions(t, memnet.Link{}, lockstep.Config{InputDelay: delay}, 100, func(tick int, ss []*lockstep.Session[input]) {
		for i, s := range ss {
			steps, err := s.Advance(input{Buttons: uint8(i + 1), Dx: int16(tick)})
			if err != nil {
				t.Fatal(err)
			}
			for _, st := range steps {
				got[i] = append(got[i], lockstep.Step[input]{Frame: st.Frame, Inputs: append([]input(nil), st.Inputs...)})
			}
		}
	})
	for i := range 2 {
		if len(got[i]) < 95 {
			t.Fatalf("seat %d: %d steps in 100 ticks", i, len(got[i]))
		}
		for k, st := range got[i] {
			if st.Frame != lockstep.Frame(k) {
				t.Fatalf("seat %d: step %d is frame %d", i, k, st.Frame)
			}
			if o := got[1-i]; k < len(o) && !equalInputs(o[k].Inputs, st.Inputs) {
				t.Errorf("frame %d: seats disagree: %+v vs %+v", k, st.Inputs, o[k].Inputs)
			}
			for seat, in := range st.Inputs {
				switch {
				case k < delay && in != (input{}):
					t.Errorf("frame %d (head start): seat %d input %+v, want zero", k, seat, in)
				case k >= delay && in.Buttons != uint8(seat+1):
					t.Errorf("frame %d: seat %d input %+v is not from seat %d", k, seat, in, seat)
				case k > delay && in.Dx != got[i][k-1].Inputs[seat].Dx+1:
					t.Errorf("frame %d: seat %d input of tick %d follows tick %d", k, seat, in.Dx, got[i][k-1].Inputs[seat].Dx)
				}
			}
		}
	}
}

func equalInputs(a, b []input) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestReplay records every seat of an impaired 3-seat game in which one
// seat leaves, then replays each log: the same Steps and the same
// checksums come out, and the header says what the session was.
func TestReplay(t *testing.T) {
	bufs := make([]*bytes.Buffer, 3)
	cfg := simConfig(3, 900)
	cfg.Link = memnet.Link{Latency: 30 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: 0.1}
	cfg.Session = lockstep.Config{GameID: 0xabc, Seed: 99, ChecksumInterval: 10, Adaptive: lockstep.AdaptiveDelay{Enabled: true}}
	cfg.Leave = []locksteptest.Leave{{Seat: 2, Tick: 400}}
	cfg.Record = func(seat int) io.Writer {
		bufs[seat] = &bytes.Buffer{}
		return bufs[seat]
	}
	res := locksteptest.Run(t, cfg)
	for seat, b := range bufs {
		r, err := lockstep.NewReplay[input](bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatalf("seat %d: NewReplay: %v", seat, err)
		}
		h := r.Header()
		if h.GameID != 0xabc || h.Seed != 99 || h.TickRate != 60 || h.LocalSeat != seat || len(h.Seats) != 3 || h.Seats[seat] != locksteptest.PeerID(seat) || h.InputSize != 3 {
			t.Errorf("seat %d: header %+v", seat, h)
		}
		sim := newHashSim(3)
		var sums []uint64
		for {
			st, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("seat %d: Next: %v", seat, err)
			}
			if st.Frame != lockstep.Frame(len(sums)) {
				t.Fatalf("seat %d: step %d is frame %d", seat, len(sums), st.Frame)
			}
			sim.Step(st.Frame, st.Inputs)
			sums = append(sums, sim.Checksum())
		}
		frames, checked := len(sums), 0
		for f, want := range sums {
			if sum, ok := r.Checksum(lockstep.Frame(f)); ok {
				checked++
				if sum != want {
					t.Fatalf("seat %d: frame %d replays to %#x, recorded %#x", seat, f, want, sum)
				}
			}
		}
		if frames != int(res.Frames[seat]) || checked < frames/10-2 {
			t.Errorf("seat %d: replayed %d frames (%d checksums), the session ran %d", seat, frames, checked, res.Frames[seat])
		}
	}
}
