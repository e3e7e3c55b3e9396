package lockstep_test

import (
	"testing"
	"time"

	"github.com/peerplay/peerplay/netcode/transport"
	"github.com/peerplay/peerplay/sync/lockstep"
	"github.com/peerplay/peerplay/sync/lockstep/locksteptest"
)

// fakeClock is a settable clock for sessions outside synctest.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

// TestAdvanceZeroAllocs: once warm, a tick of every session (receive,
// decode, emit, stamp, encode, send, checksum) allocates nothing.
func TestAdvanceZeroAllocs(t *testing.T) {
	for _, seats := range []int{2, 4, 8} {
		ids := make([]transport.PeerID, seats)
		for i := range ids {
			ids[i] = locksteptest.PeerID(i)
		}
		conns := locksteptest.Loopback(ids...)
		clock := &fakeClock{t: time.Unix(1e9, 0)}
		var sess []*lockstep.Session[input]
		for _, c := range conns {
			s, err := lockstep.NewSession[input](c, lockstep.Config{
				Seats: ids, Now: clock.Now, ChecksumInterval: 1,
				Adaptive: lockstep.AdaptiveDelay{Enabled: true},
			})
			if err != nil {
				t.Fatal(err)
			}
			sess = append(sess, s)
		}
		sim := newHashSim(seats)
		frames := 0
		tick := func() {
			clock.t = clock.t.Add(time.Second / 60)
			for i, s := range sess {
				steps, err := s.Advance(input{Buttons: 1, Dx: int16(i)})
				if err != nil {
					t.Fatal(err)
				}
				for _, st := range steps {
					if i == 0 {
						sim.Step(st.Frame, st.Inputs)
						frames++
					}
					s.ReportChecksum(st.Frame, uint64(st.Frame))
				}
				s.PollEvents()
			}
		}
		for range 300 {
			tick()
		}
		before := frames
		if allocs := testing.AllocsPerRun(500, tick); allocs != 0 {
			t.Errorf("%d seats: %v allocs per tick of every session, want 0", seats, allocs)
		}
		if frames-before < 490 {
			t.Errorf("%d seats: %d frames in 501 ticks: the sessions were not in steady state", seats, frames-before)
		}
	}
}
