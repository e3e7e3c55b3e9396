package sim

// Bot is the AI paddle: it returns the input seat would press this frame.
// It reads s only and is deterministic, so a bot seat can be computed by
// every peer (or used as a stand-in for a human in tests).
//
// The bot follows the ball only while the ball comes towards it on its half
// of the field, and aims a little off-centre to play angles; its paddle is
// slower than a fast ball, so it misses sometimes and matches end.
func Bot(s *State, seat int) Input {
	seat &= 1
	target := int32((FieldH - PaddleH) / 2 * Unit) // rest in the middle
	toward := (seat == 0 && s.BallVX < 0) || (seat == 1 && s.BallVX > 0)
	half := s.BallX < FieldW/2*Unit
	if seat == 1 {
		half = !half
	}
	if s.Serve == 0 && toward && half {
		// Aim one of five spots on the paddle, changing with every rally hit.
		spot := (s.Hits*7+int32(seat)*3)%5 - 2
		aim := spot * (PaddleH / 5) * Unit
		// About one return in six is a blunder: the bot aims past its edge.
		if mix(s.Rng, uint64(s.Hits)<<1|uint64(seat))%6 == 0 {
			aim = (PaddleH/2 + BallSize + 4) * Unit
			if spot < 0 {
				aim = -aim
			}
		}
		target = s.BallY + BallSize*Unit/2 - PaddleH*Unit/2 + aim
	}
	d := target - s.PaddleY[seat]
	switch {
	case d < -paddleSpeed/2:
		return Input{Buttons: Up}
	case d > paddleSpeed/2:
		return Input{Buttons: Down}
	}
	return Input{}
}

// mix hashes two words into one (the splitmix64 finaliser), so the bot can
// draw from the serve's random state without changing it.
func mix(a, b uint64) uint64 {
	return splitmix(a ^ (b * 0x9e3779b97f4a7c15))
}
