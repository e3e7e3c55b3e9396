// Package replay stores a Pong match as its config and every frame's inputs,
// so the match can be stepped again and must end on the recorded checksum.
//
// Quick start:
//
//	r := replay.Replay{Config: sim.Config{Seed: 1, WinScore: 3}}
//	s := sim.New(r.Config)
//	for !s.Over() {
//		in := [2]sim.Input{sim.Bot(&s, 0), sim.Bot(&s, 1)}
//		r.Inputs = append(r.Inputs, in)
//		s.Step(in)
//	}
//	r.Checksum = s.Checksum()
//	b, _ := r.MarshalBinary()
//	var back replay.Replay
//	_ = back.UnmarshalBinary(b)
//	final, _ := back.Play() // final.Checksum() == r.Checksum
//
// # File format, version 1 (little endian)
//
//	offset size  field
//	0      4     magic "PPRP"
//	4      2     version = 1
//	6      2     seats = 2
//	8      8     seed
//	16     2     win score
//	18     4     frame count N (at most MaxFrames)
//	22     2N    inputs: for each frame, seat 0's then seat 1's Buttons byte
//	22+2N  8     checksum of the final state
//
// Nothing may follow. The format is this demo's own; the SDK's lockstep
// package records Step values, which a later version may store instead.
package replay
