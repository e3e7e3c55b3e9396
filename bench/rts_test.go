package bench

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"testing"
	"testing/synctest"
	"time"
)

var rtsOut = flag.String("rts.out", "", "run the RTS profile's memnet sweep for 1 minute per cell and write its cells as JSON to this file (bench/cmd/report sets it)")

// TestRTSProfileSweep plays the RTS profile (8 seats, 60 Hz, 200 ms send
// interval) and the every-tick baseline over memnet under synctest at
// RTT 50, 150 and 300 ms, and asserts what must hold: identical inputs on
// every peer, no desync, play progresses (at least half of the ticks run
// a frame). Figures (delay, stalls) go to -rts.out for the report; they
// are not asserted.
func TestRTSProfileSweep(t *testing.T) {
	measure := 10 * time.Second
	if *rtsOut != "" {
		measure = time.Minute
	}
	var rows []RTSSweep
	for _, rtt := range RTSSweepRTTs {
		row := RTSSweep{RTTms: rtt}
		for _, send := range []time.Duration{0, RTSSendInterval} {
			t.Run(fmt.Sprintf("rtt=%d/send=%v", rtt, send), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					c, err := RunGroupCell(RTSSeats, send, time.Duration(rtt)*time.Millisecond, 0, uint64(rtt)+1, 10*time.Second, measure)
					if err != nil {
						t.Fatal(err)
					}
					if c.Frames < int(c.Ticks/2) {
						t.Errorf("%d frames in %d ticks, want at least half", c.Frames, c.Ticks)
					}
					t.Logf("delay median %.0f (max %d, theory %d), stalls %d in %d ticks", c.DelayMedian, c.DelayMax, c.Theory, c.Stalls, c.Ticks)
					if send == 0 {
						row.EveryTick = c
					} else {
						row.RTS = c
					}
				})
			})
		}
		rows = append(rows, row)
	}
	if *rtsOut != "" {
		b, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(*rtsOut, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
