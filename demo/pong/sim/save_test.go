package sim_test

import (
	"testing"

	"github.com/peerplay/peerplay/demo/pong/sim"
	"github.com/peerplay/peerplay/sync/rollback"
)

// TestSaveLoadSyncTest: pong's Step, Save and Load pass rollback's
// SyncTest (every frame rolled back and re-simulated 8 frames later, the
// checksums compared) over a whole bot match.
func TestSaveLoadSyncTest(t *testing.T) {
	st, err := rollback.NewSyncTest[sim.Input](2, 8)
	if err != nil {
		t.Fatal(err)
	}
	s := sim.New(sim.Config{Seed: 7, WinScore: 3})
	slots := make([]sim.State, st.Slots())
	in := make([]sim.Input, 2)
	for f := 0; !s.Over() && f < 100_000; f++ {
		in[0], in[1] = sim.Bot(&s, 0), sim.Bot(&s, 1)
		reqs, err := st.Advance(in)
		if err != nil {
			t.Fatalf("frame %d: %v", f, err)
		}
		for _, r := range reqs {
			switch r.Kind {
			case rollback.Save:
				s.Save(&slots[r.Slot])
			case rollback.Load:
				s.Load(&slots[r.Slot])
			case rollback.Advance:
				s.Step([2]sim.Input{r.Inputs[0], r.Inputs[1]})
				st.ReportChecksum(r.Frame, s.Checksum())
			}
		}
	}
	if !s.Over() || st.Checked() < 1000 {
		t.Fatalf("over %v after %d checks", s.Over(), st.Checked())
	}
}
