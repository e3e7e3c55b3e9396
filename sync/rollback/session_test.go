package rollback_test

import (
	"testing"
	"time"

	"github.com/peerplay/peerplay/netcode/memnet"
)

func TestTwoSeatsClean(t *testing.T) {
	res := run(t, runConfig{seats: 2, frames: 600, seed: 1})
	for i, st := range res.stats {
		t.Logf("seat %d: %+v", i, st)
	}
}

func TestTwoSeatsImpaired(t *testing.T) {
	res := run(t, runConfig{seats: 2, frames: 1200, seed: 2,
		link: memnet.Link{Latency: 75 * time.Millisecond, Jitter: 10 * time.Millisecond, Loss: 0.2, Duplicate: 0.05, Reorder: 0.05}})
	for i, st := range res.stats {
		t.Logf("seat %d: ticks %d stalls %d rollbacks %d resim %d longest %d predicted %d ahead %.1f",
			i, st.Ticks, st.Stalls, st.Rollbacks, st.Resimulated, st.LongestRollback, st.Predicted, st.FramesAhead)
		if st.Rollbacks == 0 {
			t.Errorf("seat %d: no rollback at 150 ms RTT", i)
		}
	}
}
