//go:build race

package rollback_test

// raceEnabled: the race detector slows the engine about 30×, so the
// matrix runs a reduced (still real) workload under -race.
const raceEnabled = true
