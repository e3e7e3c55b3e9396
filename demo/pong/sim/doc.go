// Package sim is the pure, deterministic Pong simulation behind demo/pong.
//
// It imports nothing but the standard library (checked by a test): no
// ebiten, no clock, no global math/rand, no maps, no floats. All positions
// and velocities are integers in sub-pixels (Unit per pixel), so every peer,
// on every architecture (amd64, arm64, wasm), computes the same State from
// the same Config and the same inputs, and the lockstep checksums agree.
//
// Quick start:
//
//	s := sim.New(sim.Config{Seed: 42})
//	for !s.Over() {
//		s.Step([2]sim.Input{sim.Bot(&s, 0), sim.Bot(&s, 1)})
//	}
//	fmt.Println(s.Score, s.Checksum())
//
// Seat 0 plays the left paddle, seat 1 the right one. A match is first to
// Config.WinScore points. The seed (agreed in the lobby) decides every serve.
package sim
