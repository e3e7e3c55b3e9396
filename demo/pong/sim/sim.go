package sim

import (
	"encoding/binary"
)

// Geometry, in pixels of the logical field. The ebiten front draws the field
// 1:1 at this size; every length is multiplied by Unit inside State.
const (
	FieldW = 640 // field width, pixels
	FieldH = 360 // field height, pixels

	PaddleW      = 10 // paddle width, pixels
	PaddleH      = 60 // paddle height, pixels
	PaddleMargin = 20 // gap between a field edge and its paddle, pixels
	BallSize     = 8  // ball edge, pixels

	// Unit is the number of sub-pixels per pixel.
	Unit = 256

	paddleSpeed = 5 * Unit            // per frame
	ballSpeed0  = 3 * Unit            // horizontal speed at each serve, per frame
	ballSpeedUp = Unit / 4            // added to the horizontal speed at each paddle hit
	ballSpeedX  = 10 * Unit           // horizontal speed cap; < PaddleW+BallSize, so no tunnelling
	ballMaxVY   = 7 * Unit            // vertical speed after an edge hit
	serveMaxVY  = 2 * Unit            // |vertical speed| at a serve is below this
	serveDelay  = 45                  // frames the ball rests before a serve
	leftX       = PaddleMargin * Unit // left paddle's left edge
	rightX      = (FieldW - PaddleMargin - PaddleW) * Unit
)

// Default values used when Config fields are zero.
const (
	DefaultWinScore = 5
)

// Config sets up a match. The zero value is a valid match with seed 0.
type Config struct {
	// Seed decides the direction and angle of every serve. Peers of one match
	// must use the same seed (the lobby agrees on it).
	Seed uint64
	// WinScore is the score that ends the match; 0 means DefaultWinScore.
	// Values above 99 are clamped to 99.
	WinScore int
}

// Input is one seat's input for one frame: a fixed-size value, so lockstep
// can frame it. Buttons holds Up and Down bits; other bits are ignored.
type Input struct {
	Buttons uint8
}

// Buttons of an Input.
const (
	Up   uint8 = 1 << 0
	Down uint8 = 1 << 1
)

// Pressed reports whether every bit of b is set in in.
func (in Input) Pressed(b uint8) bool { return in.Buttons&b == b }

// State is the whole game state. It is a plain value: copying it forks the
// simulation. Not safe for concurrent use.
type State struct {
	Frame    uint32   // frames stepped so far
	Rng      uint64   // xorshift64* state, never 0
	WinScore int32    // points to win
	Score    [2]int32 // points of seat 0 (left) and seat 1 (right)
	PaddleY  [2]int32 // top edge of each paddle, sub-pixels
	BallX    int32    // left edge of the ball, sub-pixels
	BallY    int32    // top edge of the ball, sub-pixels
	BallVX   int32    // sub-pixels per frame
	BallVY   int32    // sub-pixels per frame
	Serve    int32    // frames until the ball moves; 0 = in play
	ServeTo  int32    // seat the next serve goes towards
	Hits     int32    // paddle hits since the last serve
	Winner   int32    // -1 while playing, else the winning seat
}

// New returns the state at frame 0 of a match.
func New(cfg Config) State {
	win := cfg.WinScore
	switch {
	case win <= 0:
		win = DefaultWinScore
	case win > 99:
		win = 99
	}
	s := State{
		Rng:      splitmix(cfg.Seed),
		WinScore: int32(win),
		Winner:   -1,
	}
	s.PaddleY[0] = (FieldH - PaddleH) / 2 * Unit
	s.PaddleY[1] = s.PaddleY[0]
	s.ServeTo = int32(s.rand() & 1)
	s.resetBall()
	return s
}

// splitmix turns any seed (also 0) into a non-zero xorshift state.
func splitmix(seed uint64) uint64 {
	z := seed + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	if z == 0 {
		z = 1
	}
	return z
}

func (s *State) rand() uint64 {
	x := s.Rng
	x ^= x >> 12
	x ^= x << 25
	x ^= x >> 27
	s.Rng = x
	return x * 0x2545f4914f6cdd1d
}

func (s *State) resetBall() {
	s.BallX = (FieldW - BallSize) / 2 * Unit
	s.BallY = (FieldH - BallSize) / 2 * Unit
	s.BallVX, s.BallVY = 0, 0
	s.Serve = serveDelay
	s.Hits = 0
}

func (s *State) serve() {
	vy := int32(s.rand()%(2*serveMaxVY-1)) - (serveMaxVY - 1)
	s.BallVY = vy
	if s.ServeTo == 0 {
		s.BallVX = -ballSpeed0
	} else {
		s.BallVX = ballSpeed0
	}
}

// Over reports whether the match has ended.
func (s *State) Over() bool { return s.Winner >= 0 }

// Step advances the state by one frame with one input per seat. After the
// match is over only Frame advances.
func (s *State) Step(in [2]Input) {
	s.Frame++
	if s.Over() {
		return
	}
	for i := range 2 {
		y := s.PaddleY[i]
		if in[i].Buttons&Up != 0 {
			y -= paddleSpeed
		}
		if in[i].Buttons&Down != 0 {
			y += paddleSpeed
		}
		s.PaddleY[i] = clamp(y, 0, (FieldH-PaddleH)*Unit)
	}
	if s.Serve > 0 {
		s.Serve--
		if s.Serve == 0 {
			s.serve()
		}
		return
	}
	s.BallX += s.BallVX
	s.BallY += s.BallVY
	if s.BallY < 0 {
		s.BallY, s.BallVY = -s.BallY, -s.BallVY
	}
	if maxY := int32((FieldH - BallSize) * Unit); s.BallY > maxY {
		s.BallY, s.BallVY = 2*maxY-s.BallY, -s.BallVY
	}
	if s.BallVX < 0 && s.hits(0, leftX) {
		s.bounce(0, leftX+PaddleW*Unit)
	} else if s.BallVX > 0 && s.hits(1, rightX) {
		s.bounce(1, rightX-BallSize*Unit)
	}
	switch {
	case s.BallX+BallSize*Unit < 0:
		s.point(1)
	case s.BallX > FieldW*Unit:
		s.point(0)
	}
}

// hits reports whether the ball overlaps paddle seat whose left edge is px.
func (s *State) hits(seat int, px int32) bool {
	return s.BallX < px+PaddleW*Unit && s.BallX+BallSize*Unit > px &&
		s.BallY < s.PaddleY[seat]+PaddleH*Unit && s.BallY+BallSize*Unit > s.PaddleY[seat]
}

// bounce sends the ball back from seat's paddle; x is the ball's new left
// edge (in front of the paddle). The vertical speed follows where the ball
// met the paddle: its centre sends it straight, its edges at ±ballMaxVY.
func (s *State) bounce(seat int, x int32) {
	s.Hits++
	speed := abs(s.BallVX) + ballSpeedUp
	if speed > ballSpeedX {
		speed = ballSpeedX
	}
	if seat == 0 {
		s.BallVX = speed
	} else {
		s.BallVX = -speed
	}
	s.BallX = x
	const half = (PaddleH + BallSize) * Unit / 2
	off := (s.BallY + BallSize*Unit/2) - (s.PaddleY[seat] + PaddleH*Unit/2) // in [-half, half]
	s.BallVY = clamp(off*ballMaxVY/half, -ballMaxVY, ballMaxVY)
}

func (s *State) point(seat int32) {
	s.Score[seat]++
	s.ServeTo = 1 - seat // the loser receives the next serve
	s.resetBall()
	if s.Score[seat] >= s.WinScore {
		s.Winner = seat
		s.Serve = 0
	}
}

// StateSize is the length of the encoding that Checksum hashes.
const StateSize = 4 + 8 + 4 + 2*4 + 2*4 + 8*4

// AppendBinary appends the little-endian encoding of every field of s.
func (s *State) AppendBinary(b []byte) []byte {
	le := binary.LittleEndian
	b = le.AppendUint32(b, s.Frame)
	b = le.AppendUint64(b, s.Rng)
	b = le.AppendUint32(b, uint32(s.WinScore))
	for i := range 2 {
		b = le.AppendUint32(b, uint32(s.Score[i]))
	}
	for i := range 2 {
		b = le.AppendUint32(b, uint32(s.PaddleY[i]))
	}
	for _, v := range [...]int32{s.BallX, s.BallY, s.BallVX, s.BallVY, s.Serve, s.ServeTo, s.Hits, s.Winner} {
		b = le.AppendUint32(b, uint32(v))
	}
	return b
}

// Checksum is a 64-bit FNV-1a hash of every field of s, the value peers
// compare to detect a desync.
func (s *State) Checksum() uint64 {
	var buf [StateSize]byte
	b := s.AppendBinary(buf[:0])
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// Ball returns the ball's top-left corner in whole pixels.
func (s *State) Ball() (x, y int) { return int(s.BallX / Unit), int(s.BallY / Unit) }

// Paddle returns seat's paddle top-left corner in whole pixels.
func (s *State) Paddle(seat int) (x, y int) {
	x = PaddleMargin
	if seat == 1 {
		x = FieldW - PaddleMargin - PaddleW
	}
	return x, int(s.PaddleY[seat&1] / Unit)
}

func clamp(v, lo, hi int32) int32 {
	return min(max(v, lo), hi)
}

func abs(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}
