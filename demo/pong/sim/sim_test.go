package sim

import (
	"testing"
)

// play runs a bot-vs-bot match to its end (or maxFrames) and returns it.
func play(t *testing.T, cfg Config, maxFrames uint32) State {
	t.Helper()
	s := New(cfg)
	for !s.Over() && s.Frame < maxFrames {
		s.Step([2]Input{Bot(&s, 0), Bot(&s, 1)})
	}
	return s
}

func TestNewDefaults(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want int32
	}{
		{"zero", Config{}, DefaultWinScore},
		{"negative", Config{WinScore: -3}, DefaultWinScore},
		{"three", Config{WinScore: 3}, 3},
		{"clamped", Config{WinScore: 1000}, 99},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(tt.cfg)
			if s.WinScore != tt.want {
				t.Errorf("WinScore = %d, want %d", s.WinScore, tt.want)
			}
			if s.Over() || s.Winner != -1 {
				t.Errorf("new match is over: Winner = %d", s.Winner)
			}
			if s.Serve != serveDelay || s.BallVX != 0 {
				t.Errorf("Serve, BallVX = %d, %d, want %d, 0", s.Serve, s.BallVX, serveDelay)
			}
			if s.Rng == 0 {
				t.Error("Rng = 0; xorshift would stay 0 forever")
			}
		})
	}
}

func TestPaddleMoves(t *testing.T) {
	mid := int32((FieldH - PaddleH) / 2 * Unit)
	tests := []struct {
		name   string
		start  int32
		in     Input
		frames int
		want   int32
	}{
		{"idle", mid, Input{}, 10, mid},
		{"up", mid, Input{Buttons: Up}, 3, mid - 3*paddleSpeed},
		{"down", mid, Input{Buttons: Down}, 3, mid + 3*paddleSpeed},
		{"both cancel", mid, Input{Buttons: Up | Down}, 3, mid},
		{"unknown bits ignored", mid, Input{Buttons: 0xfc}, 3, mid},
		{"clamped at top", 2 * Unit, Input{Buttons: Up}, 5, 0},
		{"clamped at bottom", (FieldH - PaddleH - 2) * Unit, Input{Buttons: Down}, 5, (FieldH - PaddleH) * Unit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Config{})
			s.PaddleY = [2]int32{tt.start, tt.start}
			for range tt.frames {
				s.Step([2]Input{tt.in, {}})
			}
			if s.PaddleY[0] != tt.want {
				t.Errorf("PaddleY[0] = %d, want %d", s.PaddleY[0], tt.want)
			}
			if s.PaddleY[1] != tt.start {
				t.Errorf("PaddleY[1] = %d moved without input, want %d", s.PaddleY[1], tt.start)
			}
		})
	}
}

// inPlay returns a state with the ball in flight at the given place and speed.
func inPlay(x, y, vx, vy int32) State {
	s := New(Config{})
	s.Serve = 0
	s.BallX, s.BallY, s.BallVX, s.BallVY = x, y, vx, vy
	return s
}

func TestBall(t *testing.T) {
	mid := int32((FieldH - PaddleH) / 2 * Unit)
	paddleMidBallY := mid + (PaddleH-BallSize)/2*Unit
	tests := []struct {
		name                  string
		s                     State
		wantX, wantY          int32
		wantVX, wantVY        int32
		wantScore             [2]int32
		wantHits, wantServeTo int32
	}{
		{
			name:  "flies",
			s:     inPlay(300*Unit, 100*Unit, 3*Unit, -2*Unit),
			wantX: 303 * Unit, wantY: 98 * Unit, wantVX: 3 * Unit, wantVY: -2 * Unit,
		},
		{
			name:  "top wall reflects",
			s:     inPlay(300*Unit, 1*Unit, 3*Unit, -3*Unit),
			wantX: 303 * Unit, wantY: 2 * Unit, wantVX: 3 * Unit, wantVY: 3 * Unit,
		},
		{
			name:  "bottom wall reflects",
			s:     inPlay(300*Unit, (FieldH-BallSize-1)*Unit, 3*Unit, 3*Unit),
			wantX: 303 * Unit, wantY: (FieldH - BallSize - 2) * Unit, wantVX: 3 * Unit, wantVY: -3 * Unit,
		},
		{
			name:  "left paddle centre returns straight and faster",
			s:     inPlay(leftX+PaddleW*Unit+Unit, paddleMidBallY, -3*Unit, 0),
			wantX: leftX + PaddleW*Unit, wantY: paddleMidBallY, wantVX: 3*Unit + ballSpeedUp, wantVY: 0, wantHits: 1,
		},
		{
			name:  "right paddle top edge returns upwards",
			s:     inPlay(rightX-BallSize*Unit-Unit, mid-BallSize*Unit+2*Unit, 3*Unit, 0),
			wantX: rightX - BallSize*Unit, wantY: mid - BallSize*Unit + 2*Unit, wantVX: -3*Unit - ballSpeedUp, wantVY: -32 * Unit * ballMaxVY / ((PaddleH + BallSize) * Unit / 2), wantHits: 1, // met 32 px above the centre
		},
		{
			name:  "speed capped",
			s:     inPlay(leftX+PaddleW*Unit+Unit, paddleMidBallY, -ballSpeedX, 0),
			wantX: leftX + PaddleW*Unit, wantY: paddleMidBallY, wantVX: ballSpeedX, wantVY: 0, wantHits: 1,
		},
		{
			name:  "missed on the left: point to seat 1",
			s:     inPlay(-BallSize*Unit+Unit, 10*Unit, -3*Unit, 0),
			wantX: (FieldW - BallSize) / 2 * Unit, wantY: (FieldH - BallSize) / 2 * Unit, wantScore: [2]int32{0, 1}, wantServeTo: 0,
		},
		{
			name:  "missed on the right: point to seat 0",
			s:     inPlay(FieldW*Unit-Unit, 10*Unit, 3*Unit, 0),
			wantX: (FieldW - BallSize) / 2 * Unit, wantY: (FieldH - BallSize) / 2 * Unit, wantScore: [2]int32{1, 0}, wantServeTo: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.s
			s.Step([2]Input{})
			got := [...]int32{s.BallX, s.BallY, s.BallVX, s.BallVY, s.Score[0], s.Score[1], s.Hits}
			want := [...]int32{tt.wantX, tt.wantY, tt.wantVX, tt.wantVY, tt.wantScore[0], tt.wantScore[1], tt.wantHits}
			if got != want {
				t.Errorf("x, y, vx, vy, score0, score1, hits = %v, want %v", got, want)
			}
			if tt.wantScore != ([2]int32{}) && s.ServeTo != tt.wantServeTo {
				t.Errorf("ServeTo = %d, want %d", s.ServeTo, tt.wantServeTo)
			}
		})
	}
}

func TestServe(t *testing.T) {
	for seed := range uint64(50) {
		s := New(Config{Seed: seed})
		for range serveDelay - 1 {
			s.Step([2]Input{})
			if s.BallVX != 0 {
				t.Fatalf("seed %d: ball moves at frame %d, before the serve delay %d", seed, s.Frame, serveDelay)
			}
		}
		s.Step([2]Input{})
		wantVX := int32(ballSpeed0)
		if s.ServeTo == 0 {
			wantVX = -ballSpeed0
		}
		if s.BallVX != wantVX || abs(s.BallVY) >= serveMaxVY {
			t.Errorf("seed %d: serve vx, vy = %d, %d, want %d, |vy| < %d", seed, s.BallVX, s.BallVY, wantVX, serveMaxVY)
		}
	}
}

func TestMatchEnds(t *testing.T) {
	tests := []struct {
		seed uint64
		win  int
	}{{0, 1}, {1, 3}, {2, 5}, {3, 5}, {4, 7}}
	for _, tt := range tests {
		s := play(t, Config{Seed: tt.seed, WinScore: tt.win}, 200_000)
		if !s.Over() {
			t.Fatalf("seed %d: no winner after %d frames, score %v", tt.seed, s.Frame, s.Score)
		}
		w := s.Winner
		if s.Score[w] != int32(tt.win) || s.Score[1-w] >= int32(tt.win) {
			t.Errorf("seed %d: winner %d with score %v, want first to %d", tt.seed, w, s.Score, tt.win)
		}
		// A finished match only counts frames.
		before := s
		s.Step([2]Input{{Buttons: Up}, {Buttons: Down}})
		before.Frame++
		if s != before {
			t.Errorf("seed %d: state changed after the match ended:\n got %+v\nwant %+v", tt.seed, s, before)
		}
	}
}

func TestBotMovesTowardsBall(t *testing.T) {
	// Ball coming at the left paddle, far below it: seat 0 goes down, seat 1
	// (the ball moves away from it) heads back to the middle.
	s := inPlay(100*Unit, 300*Unit, -4*Unit, 0)
	s.PaddleY = [2]int32{0, 0}
	if got := Bot(&s, 0); got.Buttons != Down {
		t.Errorf("Bot(seat 0) = %+v, want Down", got)
	}
	if got := Bot(&s, 1); got.Buttons != Down {
		t.Errorf("Bot(seat 1) = %+v, want Down (back to the middle)", got)
	}
	s.PaddleY[1] = (FieldH - PaddleH) * Unit
	if got := Bot(&s, 1); got.Buttons != Up {
		t.Errorf("Bot(seat 1) at the bottom = %+v, want Up", got)
	}
	before := s
	_ = Bot(&s, 0)
	if s != before {
		t.Error("Bot changed the state")
	}
}

func TestChecksumCoversEveryField(t *testing.T) {
	base := New(Config{Seed: 7})
	if got := len(base.AppendBinary(nil)); got != StateSize {
		t.Fatalf("len(AppendBinary) = %d, want StateSize %d", got, StateSize)
	}
	muts := map[string]func(*State){
		"Frame": func(s *State) { s.Frame++ }, "Rng": func(s *State) { s.Rng++ },
		"WinScore": func(s *State) { s.WinScore++ }, "Score0": func(s *State) { s.Score[0]++ },
		"Score1": func(s *State) { s.Score[1]++ }, "Paddle0": func(s *State) { s.PaddleY[0]++ },
		"Paddle1": func(s *State) { s.PaddleY[1]++ }, "BallX": func(s *State) { s.BallX++ },
		"BallY": func(s *State) { s.BallY++ }, "BallVX": func(s *State) { s.BallVX++ },
		"BallVY": func(s *State) { s.BallVY++ }, "Serve": func(s *State) { s.Serve++ },
		"ServeTo": func(s *State) { s.ServeTo++ }, "Hits": func(s *State) { s.Hits++ },
		"Winner": func(s *State) { s.Winner++ },
	}
	for name, mut := range muts {
		s := base
		mut(&s)
		if s.Checksum() == base.Checksum() {
			t.Errorf("changing %s leaves the checksum at %x", name, base.Checksum())
		}
	}
}
