package bench

import (
	"encoding/json"
	"flag"
	"os"
	"testing"
	"testing/synctest"
	"time"
)

var sweepOut = flag.String("sweep.out", "", "run the full impairment sweep and write its cells as JSON to this file (bench/cmd/report sets it)")

// SweepRTTs and SweepLosses are the grid of the full sweep.
var (
	SweepRTTs   = []int{0, 20, 50, 100, 150, 200, 250, 300, 400, 500}
	SweepLosses = []float64{0, 0.05, 0.10, 0.20}
)

// TestImpairmentSweep plays lockstep over memnet under testing/synctest
// (fake clock) across RTT and loss, and asserts what must hold in every
// cell: both peers step identical inputs for every frame, no desync, and
// play progresses (at least half of the ticks run a frame). By default it
// runs a corner of the grid for 20 s of play each; with -sweep.out it runs
// the whole grid for 2 minutes each and writes the figures (delay vs
// theory, stalls) for the report. Figures are not asserted here.
func TestImpairmentSweep(t *testing.T) {
	rtts, losses, measure := []int{0, 300}, []float64{0, 0.05}, 20*time.Second
	if *sweepOut != "" {
		rtts, losses, measure = SweepRTTs, SweepLosses, 2*time.Minute
	}
	var cells []SweepCell
	for _, loss := range losses {
		for _, rtt := range rtts {
			synctest.Test(t, func(t *testing.T) {
				c, err := RunSweepCell(time.Duration(rtt)*time.Millisecond, loss, uint64(rtt)*1000+uint64(loss*100)+1, 10*time.Second, measure)
				if err != nil {
					t.Fatalf("rtt %d ms, loss %.0f%%: %v", rtt, loss*100, err)
				}
				if c.Frames < int(float64(c.Ticks)/2) {
					t.Errorf("rtt %d ms, loss %.0f%%: %d frames in %d ticks, want at least half", rtt, loss*100, c.Frames, c.Ticks)
				}
				cells = append(cells, c)
			})
		}
	}
	if *sweepOut != "" {
		b, err := json.MarshalIndent(cells, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*sweepOut, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
