package sim

import (
	"testing"
)

// FuzzStep drives a match with arbitrary inputs (two bytes per frame, one
// per seat) and checks the invariants every frame: the ball and paddles stay
// in their bounds, speeds stay capped, scores never pass WinScore.
func FuzzStep(f *testing.F) {
	f.Add(uint64(0), uint8(5), []byte{0, 0, 1, 2, 2, 1, 3, 3})
	f.Add(uint64(7), uint8(1), make([]byte, 4096))
	f.Add(uint64(1<<63), uint8(200), []byte{0xff, 0xfe, 0x01})
	f.Fuzz(func(t *testing.T, seed uint64, win uint8, inputs []byte) {
		s := New(Config{Seed: seed, WinScore: int(win)})
		frames := len(inputs) / 2
		// Repeat the input stream so fast balls and several points happen.
		for i := range frames * 8 {
			j := i % frames
			prev := s
			s.Step([2]Input{{Buttons: inputs[2*j]}, {Buttons: inputs[2*j+1]}})
			checkInvariants(t, &prev, &s)
		}
	})
}

func checkInvariants(t *testing.T, prev, s *State) {
	t.Helper()
	if s.Frame != prev.Frame+1 {
		t.Fatalf("Frame %d after %d", s.Frame, prev.Frame)
	}
	for i := range 2 {
		if s.PaddleY[i] < 0 || s.PaddleY[i] > (FieldH-PaddleH)*Unit {
			t.Fatalf("frame %d: paddle %d at %d, out of the field", s.Frame, i, s.PaddleY[i])
		}
		if s.Score[i] < prev.Score[i] || s.Score[i] > s.WinScore {
			t.Fatalf("frame %d: score %v after %v (win %d)", s.Frame, s.Score, prev.Score, s.WinScore)
		}
	}
	if s.BallY < 0 || s.BallY > (FieldH-BallSize)*Unit {
		t.Fatalf("frame %d: ball y %d out of the field", s.Frame, s.BallY)
	}
	if s.BallX < -BallSize*Unit-ballSpeedX || s.BallX > FieldW*Unit+ballSpeedX {
		t.Fatalf("frame %d: ball x %d far out of the field", s.Frame, s.BallX)
	}
	if abs(s.BallVX) > ballSpeedX || abs(s.BallVY) > ballMaxVY {
		t.Fatalf("frame %d: ball speed %d, %d over the caps", s.Frame, s.BallVX, s.BallVY)
	}
	if s.Rng == 0 {
		t.Fatalf("frame %d: Rng is 0", s.Frame)
	}
}
