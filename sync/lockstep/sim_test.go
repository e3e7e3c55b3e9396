package lockstep_test

import (
	"math/rand/v2"

	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/lockstep/locksteptest"
)

// input is the test game's input: 3 bytes on the wire.
type input struct {
	Buttons uint8
	Dx      int16
}

// hashSim is a deterministic toy game: its state folds in every frame's
// inputs, so any input difference on any frame changes every later
// checksum.
type hashSim struct {
	state uint64
	pos   []int64
}

func newHashSim(seats int) *hashSim {
	return &hashSim{state: 1469598103934665603, pos: make([]int64, seats)}
}

func (h *hashSim) Step(f lockstep.Frame, in []input) {
	h.state ^= uint64(f)
	h.state *= 1099511628211
	for i, x := range in {
		h.pos[i] += int64(x.Dx)
		h.state ^= uint64(x.Buttons)<<16 | uint64(uint16(x.Dx))
		h.state *= 1099511628211
	}
}

func (h *hashSim) Checksum() uint64 {
	s := h.state
	for _, p := range h.pos {
		s = (s ^ uint64(p)) * 1099511628211
	}
	return s
}

func simConfig(seats, frames int) locksteptest.Config[input] {
	return locksteptest.Config[input]{
		Seats:  seats,
		Frames: frames,
		Seed:   1,
		NewSim: func(int) locksteptest.Sim[input] { return newHashSim(seats) },
		Input: func(seat, tick int, rng *rand.Rand) input {
			return input{Buttons: uint8(rng.IntN(4)), Dx: int16(rng.IntN(7) - 3)}
		},
	}
}
