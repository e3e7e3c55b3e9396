package lockstep_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/peerplay/peerplay/sync/lockstep"
)

// TestStepStatus: each Step says per seat where its input comes from. Seat
// 2 falls silent at tick 100: its real inputs are InputConfirmed (or
// InputDisconnecting, for held frames run after the others suspect it:
// none here, since they ran all it sent before the timeout), then
// InputDropped with the zero input from the drop frame on. Meanwhile
// Waiting names seat 2 with a growing duration.
func TestStepStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newRedMatch(t, 3, lockstep.Config{InputDelay: 3})
		status := map[lockstep.Frame]lockstep.InputStatus{}
		var longest time.Duration
		for tick := range 800 {
			for i, s := range m.sess {
				if i == 2 {
					if tick < 100 {
						_, _ = s.Advance(input{Buttons: 2})
					}
					continue
				}
				steps, err := s.Advance(input{Buttons: 1, Dx: 1})
				if err != nil {
					t.Fatal(err)
				}
				for _, st := range steps {
					if i == 0 {
						status[st.Frame] = st.Status[2]
						if st.Status[0] != lockstep.InputConfirmed || st.Status[1] != lockstep.InputConfirmed {
							t.Fatalf("frame %d: status %v, want seats 0 and 1 confirmed", st.Frame, st.Status)
						}
						if st.Status[2] == lockstep.InputDropped && st.Inputs[2] != (input{}) {
							t.Fatalf("frame %d: dropped seat's input %+v, want zero", st.Frame, st.Inputs[2])
						}
					}
				}
				m.events[i] = append(m.events[i], s.PollEvents()...)
				if seat, d := s.Waiting(); seat == 2 {
					longest = max(longest, d)
				}
			}
			time.Sleep(time.Second / 60)
		}
		e, ok := m.find(0, lockstep.EventPlayerDropped, 2)
		if !ok {
			t.Fatalf("seat 2 never dropped: %v", m.events[0])
		}
		counts := map[lockstep.InputStatus]int{}
		for f, st := range status {
			counts[st]++
			if want := f >= e.Frame; want != (st == lockstep.InputDropped) {
				t.Errorf("frame %d (drop frame %d): seat 2 %v", f, e.Frame, st)
			}
		}
		if counts[lockstep.InputConfirmed] < 90 || counts[lockstep.InputDropped] < 100 {
			t.Errorf("status counts %v", counts)
		}
		if longest < 4*time.Second {
			t.Errorf("Waiting reported at most %v for seat 2, want about the disconnect timeout", longest)
		}
		t.Logf("statuses %v; waited for seat 2 up to %v", counts, longest)
	})
}

// TestLateStart: a seat whose game starts 8 s after the others (within
// the 10 s JoinTimeout) is waited for, not voted out as "stalling": a
// seat never heard from is judged by the join timeout only.
func TestLateStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := newRedMatch(t, 3, lockstep.Config{InputDelay: 3})
		m.frozen[2] = true
		for tick := range 1200 {
			if tick == 8*60 {
				m.frozen[2] = false
			}
			m.tick(tick)
		}
		m.noDrops(0, 1, 2)
		m.agree(0, 2)
		for i := range 3 {
			if f := m.frames(i); f < 1200-8*60-60 {
				t.Errorf("seat %d ran %d frames", i, f)
			}
		}
	})
}
