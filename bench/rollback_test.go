package bench

import (
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/lockstep/locksteptest"
	"github.com/peerplay/peerplay/sync/rollback"
)

// TestRollbackVsLockstep measures both models in the same run over the
// same memnet links (2 peers, 60 Hz, synctest): perceived input latency
// (frames from a local input to its effect on screen: lockstep's adaptive
// delay, rollback's input delay) and stalls, with rollbacks per second and
// frames re-simulated per tick. It asserts correctness in every cell
// (identical inputs / confirmed states); figures are logged (-v).
func TestRollbackVsLockstep(t *testing.T) {
	rtts, losses, measure := []int{0, 50, 100, 150, 200, 250, 300}, []float64{0, 0.05}, 30*time.Second
	if testing.Short() {
		rtts, losses, measure = []int{0, 300}, []float64{0.05}, 10*time.Second
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%6s %5s | %-22s | %-42s | %-42s\n", "RTT ms", "loss", "lockstep: delay, stall%",
		"rollback delay 0: stall%, rb/s, resim/tick", "rollback delay 2: stall%, rb/s, resim/tick")
	for _, loss := range losses {
		for _, rtt := range rtts {
			synctest.Test(t, func(t *testing.T) {
				d := time.Duration(rtt) * time.Millisecond
				seed := uint64(rtt)*1000 + uint64(loss*100) + 1
				ls, err := RunSweepCell(d, loss, seed, 10*time.Second, measure)
				if err != nil {
					t.Fatalf("lockstep rtt %d loss %v: %v", rtt, loss, err)
				}
				var rb [2]RollbackCell
				for i, delay := range []int{0, 2} {
					if rb[i], err = RunRollbackCell(d, loss, delay, seed, 10*time.Second, measure); err != nil {
						t.Fatalf("rollback rtt %d loss %v delay %d: %v", rtt, loss, delay, err)
					}
					if rb[i].Frames < int(rb[i].Ticks)/2 {
						t.Errorf("rollback rtt %d: %d frames in %d ticks", rtt, rb[i].Frames, rb[i].Ticks)
					}
				}
				fmt.Fprintf(&b, "%6d %4.0f%% | %5.0f frames %5.1f%%    | %5.1f%% %6.1f %5.2f (longest %d)              | %5.1f%% %6.1f %5.2f (longest %d)\n",
					rtt, loss*100, ls.DelayMedian, 100*ls.StallRate,
					100*rb[0].StallRate, rb[0].RollbacksPerSec, rb[0].ResimPerTick, rb[0].LongestRollback,
					100*rb[1].StallRate, rb[1].RollbacksPerSec, rb[1].ResimPerTick, rb[1].LongestRollback)
			})
		}
	}
	t.Logf("perceived latency: lockstep = its delay; rollback = its input delay (0 or 2 frames) at every RTT\n%s", b.String())
}

// BenchmarkRollbackAdvance: the CPU of one tick of a rollback session
// with MaxPrediction 8 and its PongSim (engine, prediction, Save/Load and
// re-simulation as asked), 2 seats over Loopback, inputs changing every
// 4 ticks so rollbacks happen; 0 allocs.
func BenchmarkRollbackAdvance(b *testing.B) {
	ids := []transport.PeerID{"a", "b"}
	conns := locksteptest.Loopback(ids...)
	var sess [2]*rollback.Session[Input]
	var games [2]PongSim
	var slots [2][]PongSim
	for i, c := range conns {
		s, err := rollback.NewSession[Input](c, rollback.Config{Lockstep: lockstep.Config{Seats: ids}})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		sess[i], games[i], slots[i] = s, *NewPongSim(), make([]PongSim, s.Slots())
	}
	n := 0
	tick := func() {
		n++
		for p, s := range sess {
			reqs, err := s.Advance(Input{Buttons: uint8(n / 4), Axis: int16(n/4%3 - 1 + p)})
			if err != nil {
				b.Fatal(err)
			}
			serve(s, reqs, &games[p], slots[p])
		}
	}
	for range 300 {
		tick()
	}
	st0 := sess[0].Stats()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		tick()
	}
	b.StopTimer()
	st := sess[0].Stats()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N), "ns/tick")
	b.ReportMetric(float64(st.Rollbacks-st0.Rollbacks)/float64(b.N)*60, "rollbacks/s")
	b.ReportMetric(float64(st.Resimulated-st0.Resimulated)/float64(b.N), "resim/tick")
}

// BenchmarkRollbackWorstCase: a tick that rolls back the full 8 frames
// (SyncTest with check distance 8: Load, 8 re-simulations with their
// Saves, the new frame), with PongSim: the most CPU a tick can cost at
// MaxPrediction 8, network aside.
func BenchmarkRollbackWorstCase(b *testing.B) {
	st, err := rollback.NewSyncTest[Input](2, 8)
	if err != nil {
		b.Fatal(err)
	}
	g := *NewPongSim()
	slots := make([]PongSim, st.Slots())
	in := make([]Input, 2)
	n := 0
	tick := func() {
		n++
		in[0].Axis, in[1].Axis = int16(n%3-1), int16(n%5-2)
		reqs, err := st.Advance(in)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range reqs {
			switch r.Kind {
			case rollback.Save:
				slots[r.Slot] = g
			case rollback.Load:
				g = slots[r.Slot]
			case rollback.Advance:
				g.Step(r.Inputs)
				st.ReportChecksum(r.Frame, g.Checksum())
			}
		}
	}
	for range 100 {
		tick()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		tick()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/tick")
	if st.Checked() == 0 {
		b.Fatal("nothing compared")
	}
}

func serve(s *rollback.Session[Input], reqs []rollback.Request[Input], g *PongSim, slots []PongSim) {
	for _, r := range reqs {
		switch r.Kind {
		case rollback.Save:
			slots[r.Slot] = *g
		case rollback.Load:
			*g = slots[r.Slot]
		case rollback.Advance:
			g.Step(r.Inputs)
			s.ReportChecksum(r.Frame, g.Checksum())
		}
	}
}
