package sim_test

import (
	"fmt"

	"github.com/peerplay/peerplay/demo/pong/sim"
)

func Example() {
	s := sim.New(sim.Config{Seed: 42, WinScore: 3})
	for !s.Over() {
		s.Step([2]sim.Input{sim.Bot(&s, 0), sim.Bot(&s, 1)})
	}
	fmt.Printf("seat %d wins %d:%d after %d frames\n", s.Winner, s.Score[0], s.Score[1], s.Frame)
	// Output: seat 1 wins 1:3 after 2147 frames
}
