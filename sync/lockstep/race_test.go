//go:build race

package lockstep_test

// raceEnabled: the race detector slows this package's tests about 30×
// (every byte the FlatBuffers builder writes is instrumented), so the
// heaviest tests run a reduced (still real) workload under -race.
const raceEnabled = true
